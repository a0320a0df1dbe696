"""External input of a run: the declared patterns, the checks of a send, and waiting.

A run started with ``external=[patterns]`` accepts signals from outside (``RunHandle.send``,
``Workflow.resume(..., signals=...)``). This module owns what that needs and nothing else:
validating the declared patterns (at start), refusing a send whose name is undeclared or in an
engine namespace or whose payload has no JSON form (before anything enters the log), the
marker of an external signal (``SignalSource(agent=None, harness="external")``), which declared
patterns some agent listens on (the run waits only for those), and the host's
``end_input``. The waiting itself happens in ``RunCore._supervise``; this module never logs,
routes or touches state.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from .._define._agent import RESERVED_NAMESPACES, AgentSpec, coerce_sequence, emit_name_problem
from .._define._overlap import overlap
from .._define._pattern import Pattern, PatternLike, compile_pattern
from .._errors import ExternalSignalError, WorkflowDefinitionError
from .._json import to_jsonable
from ._signal import Signal, SignalSource

__all__ = [
    "EXTERNAL_HARNESS",
    "ON_WAIT_CHOICES",
    "ExternalInput",
    "OnWait",
    "external_groups",
    "is_external",
]

EXTERNAL_HARNESS = "external"
"""``source.harness`` of a signal sent from outside the run (its ``source.agent`` is
``None``): the marker that tells it apart from engine and agent signals."""

OnWait = Literal["wait", "suspend"]
ON_WAIT_CHOICES: tuple[str, ...] = ("wait", "suspend")


def is_external(signal: Signal) -> bool:
    """Whether ``signal`` was sent from outside the run."""
    return signal.source.agent is None and signal.source.harness == EXTERNAL_HARNESS


class ExternalInput:
    """The external input of one run (see the module docstring)."""

    __slots__ = ("awaited", "input_ended", "on_wait", "patterns", "pending", "replaying")

    def __init__(
        self,
        patterns: Sequence[Pattern],
        agents: Mapping[str, AgentSpec],
        on_wait: str = "wait",
    ) -> None:
        self.patterns = tuple(patterns)
        self.on_wait = on_wait
        self.awaited = tuple(
            p.source
            for p in self.patterns
            if any(overlap(p, q) for spec in agents.values() for q in spec.patterns)
        )
        """The declared patterns some agent (or join) listens on: what a quiet run awaits."""
        self.input_ended = False
        self.pending: deque[list[tuple[str, dict[str, Any]]]] = deque()
        """Signals to send at the coming waits, one group per wait (a resume: the signals an
        earlier attempt received after each of its waits, then the new ones)."""
        self.replaying = False
        """Following a recording (not a resume): input ends where the recording's did."""

    def follow(self, signals: Sequence[Signal], *, resume: bool) -> None:
        """The run follows recorded ``signals`` (replay, resume): send, at each wait, the
        external signals the recorded run received after it."""
        self.pending.extend(external_groups(signals))
        self.replaying = not resume

    @classmethod
    def build(
        cls,
        raw: Sequence[PatternLike] | PatternLike | None,
        agents: Mapping[str, AgentSpec],
        on_wait: Any,
        *,
        journaled: bool,
        problems: list[str],
    ) -> ExternalInput | None:
        """Validate the ``external=`` and ``on_wait=`` run options; append what is wrong to
        ``problems``. ``None`` when the run takes no external input."""
        if on_wait not in ON_WAIT_CHOICES:
            problems.append(f"on_wait must be 'wait' or 'suspend', not {on_wait!r}")
        elif on_wait == "suspend" and not journaled:
            problems.append(
                'on_wait="suspend" needs journal=: a suspended run lives on in its journal'
            )
        if raw is None:
            if on_wait == "suspend":
                problems.append('on_wait="suspend" needs external=[patterns] to wait for')
            return None
        patterns: list[Pattern] = []
        for item in coerce_sequence(raw):
            try:
                pattern = compile_pattern(item)
            except WorkflowDefinitionError as exc:
                problems.append(f"external: {exc}")
                continue
            namespace = pattern.source.split(":", 1)[0]
            if namespace in RESERVED_NAMESPACES:
                problems.append(
                    f"external pattern {pattern.source!r} is in the engine's reserved namespace "
                    f"{namespace!r}: outside signals cannot be engine signals"
                )
                continue
            patterns.append(pattern)
        if not patterns and not problems:
            problems.append("external is empty: give at least one pattern, or leave it out")
        return cls(patterns, agents, on_wait)

    @property
    def suspend(self) -> bool:
        return self.on_wait == "suspend"

    def waiting(self) -> bool:
        """Whether a quiet run waits for input (someone listens, and input has not ended)."""
        return bool(self.awaited) and not self.input_ended

    def check(self, name: Any, payload: Any) -> dict[str, Any]:
        """The payload to publish for a send of ``name``, or :class:`ExternalSignalError`."""
        declared = ", ".join(repr(p.source) for p in self.patterns)
        problem = emit_name_problem(name) if isinstance(name, str) else "not a str"
        if problem is not None:
            raise ExternalSignalError(
                f"cannot send {name!r} into the run: {problem}; the run accepts {declared}",
                name=name,
                patterns=self.patterns,
            )
        if not any(p.matches(name) for p in self.patterns):
            raise ExternalSignalError(
                f"cannot send {name!r} into the run: it matches none of its external patterns "
                f"({declared})",
                name=name,
                patterns=self.patterns,
            )
        if payload is None:
            return {}
        if not isinstance(payload, Mapping):
            raise ExternalSignalError(
                f"cannot send {name!r}: the payload must be a mapping (or None), "
                f"not {type(payload).__name__}",
                name=name,
                patterns=self.patterns,
            )
        try:
            data = to_jsonable(dict(payload))
        except TypeError as exc:
            raise ExternalSignalError(
                f"cannot send {name!r}: the payload has no JSON form: {exc}",
                name=name,
                patterns=self.patterns,
            ) from exc
        checked: dict[str, Any] = data
        return checked

    @staticmethod
    def source(start_id: str | None) -> SignalSource:
        return SignalSource(None, EXTERNAL_HARNESS, start_id)


def external_groups(signals: Iterable[Signal]) -> list[list[tuple[str, dict[str, Any]]]]:
    """The external signals of a recorded log, grouped by the wait they followed (group 0:
    those sent before the first ``workflow:waiting``)."""
    groups: list[list[tuple[str, dict[str, Any]]]] = [[]]
    for signal in signals:
        if signal.name == "workflow:waiting":
            groups.append([])
        elif is_external(signal):
            groups[-1].append((signal.name, dict(signal.payload)))
    return groups
