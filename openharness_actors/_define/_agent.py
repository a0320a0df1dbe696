"""Agent definitions: what wakes an agent, what it asks, what it writes and emits.

An :class:`AgentSpec` is an immutable value built by ``Workflow.agent(...)``; it owns no task
and no state. The agent actor (``_agent_actor``) runs it. Names come from the ``agents={...}``
mapping given to a run, so one spec can serve under several names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import attrs

from .._core._signal import Signal
from ..harness.protocol import Harness
from ._all_of import AllOf
from ._pattern import Pattern
from ._policy import RetryPolicy
from ._template import Template

__all__ = ["AgentContext", "AgentSpec", "PromptSource"]

S = TypeVar("S")

RESERVED_NAMESPACES = frozenset(
    {"workflow", "agent", "harness", "state", "text", "thinking", "tool"}
)
"""Signal namespaces the engine owns; an agent may not declare emits in them."""

_EMIT_NAME = re.compile(r"[A-Za-z0-9_.\-]+(:[A-Za-z0-9_.\-]+)*")


@attrs.frozen
class AgentContext(Generic[S]):
    """What an activation sees: ``state`` as of its trigger's place in the log (every change
    logged before the trigger, nothing after), the trigger ``signal`` and the run's initial
    state as ``input``. ``agent`` is the agent's name in this run.

    ``signals`` is every signal the activation consumed, in log order: for a join
    (``all_of``) the signals of its firing, ``signal`` being the one that completed it;
    otherwise ``(signal,)``."""

    state: S
    signal: Signal
    input: S
    agent: str
    run_id: str
    signals: tuple[Signal, ...] = attrs.field(
        default=attrs.Factory(lambda self: (self.signal,), takes_self=True)
    )


PromptSource = str | Callable[[AgentContext[Any]], str]
"""A template string, or a callable building the text from the context."""


@attrs.frozen
class AgentSpec:
    """One agent's definition (see ``Workflow.agent`` for the meaning of each field).

    ``defined_at`` is ``file:line`` of the ``agent(...)`` call, used in error messages.
    """

    activate_on: tuple[Pattern | AllOf, ...]
    emits: tuple[str, ...] = ()
    prompt: Template | Callable[[AgentContext[Any]], Any] | None = None
    system: Template | Callable[[AgentContext[Any]], Any] | None = None
    when: Callable[[AgentContext[Any]], Any] | None = None
    updates: str | None = None
    harness: Harness | None = None
    model: str | None = None
    output: type[Any] | None = None
    tools: tuple[Callable[..., Any], ...] = ()
    timeout: float | None = None
    retry: RetryPolicy | None = None
    max_concurrency: int | None = None
    body: Callable[[AgentContext[Any]], Any] | None = None
    on_error: str = "fail"
    error_signal: str | None = None
    name: str | None = None
    defined_at: str = "?"

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        """Every pattern the agent listens on, the patterns of its joins included."""
        return tuple(
            p
            for entry in self.activate_on
            for p in (entry.patterns if isinstance(entry, AllOf) else (entry,))
        )

    @property
    def needs_harness(self) -> bool:
        """Whether activations call a harness (agents with a ``body`` do not)."""
        return self.body is None

    def label(self, name: str | None = None) -> str:
        """How error messages refer to this agent."""
        chosen = name or self.name
        return f"agent {chosen!r}" if chosen else f"agent defined at {self.defined_at}"


def emit_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a declared emit, or ``None`` when it can."""
    if not isinstance(name, str) or not _EMIT_NAME.fullmatch(name):
        return (
            f"emit {name!r} is not a signal name (segments of letters, digits, '_', '.', '-' "
            "joined by ':', no wildcards)"
        )
    namespace = name.split(":", 1)[0]
    if namespace in RESERVED_NAMESPACES:
        return (
            f"emit {name!r} is in the engine's reserved namespace {namespace!r}: "
            f"choose a name outside {', '.join(sorted(RESERVED_NAMESPACES))}"
        )
    return None


def coerce_sequence(value: Any) -> Sequence[Any]:
    """Accept one item or a sequence of them (a lone string is one item)."""
    if isinstance(value, str | bytes | re.Pattern) or not isinstance(value, Sequence):
        return (value,) if value is not None else ()
    return value
