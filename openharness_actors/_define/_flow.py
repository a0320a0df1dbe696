"""The declared signal flow of a set of agents: what wakes each one and what it produces.

Every agent declares its patterns (``activate_on``, joins included), its ``emits``, its
``updates`` key and whether it calls a harness; from that alone this module derives, per
agent, the signals one activation *certainly* produces on its way to success (the built-ins
``agent:activated``, ``harness:start``, ``text:delta``, ``text:complete``, ``harness:end``,
``agent:completed``, its ``state:<key>:changed`` and its emits) and the ones it *may* produce
(failures, retries, thinking, tool use, its error signal). The flow analysis (``_check``) and
the diagrams (``_graph``) read this model; it runs nothing and touches no run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._core._routing import NON_TRIGGERING
from ._agent import AgentSpec
from ._all_of import AllOf
from ._pattern import Pattern, PatternLike, compile_pattern

__all__ = ["AgentFlow", "Entry", "Flow", "build_flow"]

START = "workflow:start"
WAITING = "workflow:waiting"
"""Logged by a run with ``external`` patterns when it falls quiet waiting for input."""

_HARNESS_CERTAIN = ("harness:start", "text:delta", "text:complete", "harness:end")
_HARNESS_POSSIBLE = ("harness:error", "harness:retry", "thinking:delta", "thinking:complete")
_TOOLS = ("tool:call", "tool:result")
_ALWAYS_POSSIBLE = ("agent:failed", "agent:retry", "agent:cancelled", "agent:restarted")


@attrs.frozen
class Entry:
    """One ``activate_on`` entry: a pattern, or a join (``AllOf``) of several."""

    patterns: tuple[Pattern, ...]
    join: AllOf | None = None

    @property
    def label(self) -> str:
        if self.join is None:
            return self.patterns[0].source
        return str(self.join)


@attrs.frozen
class AgentFlow:
    """One agent's place in the flow."""

    name: str
    entries: tuple[Entry, ...]
    certain: tuple[str, ...]
    """Signals every successful activation produces, in the order it produces them."""
    possible: tuple[str, ...]
    """Signals an activation may produce besides (failure paths, thinking, tools)."""
    emits: tuple[str, ...]

    @property
    def patterns(self) -> tuple[Pattern, ...]:
        """Every pattern the agent listens on, joins flattened."""
        return tuple(p for entry in self.entries for p in entry.patterns)


@attrs.frozen
class Flow:
    """The flow of a set of agents and reducers, and the names its runs may receive."""

    agents: tuple[AgentFlow, ...]
    reducers: tuple[Pattern, ...]
    state_changes: tuple[Pattern, ...]
    """The ``state:<key>:changed`` signals a reducer may cause (every key, when unknown)."""
    external: tuple[Pattern, ...]


def entries_of(spec: AgentSpec) -> tuple[Entry, ...]:
    """The ``activate_on`` entries of ``spec``."""
    entries: list[Entry] = []
    for item in spec.activate_on:
        if isinstance(item, AllOf):
            entries.append(Entry(item.patterns, item))
        else:
            entries.append(Entry((item,)))
    return tuple(entries)


def agent_flow(name: str, spec: AgentSpec) -> AgentFlow:
    """The flow of one agent, named ``name``."""
    certain: list[str] = ["agent:activated"]
    possible: list[str] = list(_ALWAYS_POSSIBLE)
    if spec.needs_harness:
        certain.extend(_HARNESS_CERTAIN)
        possible.extend(_HARNESS_POSSIBLE)
        if spec.tools:
            certain[-1:-1] = _TOOLS  # tool use happens before harness:end
    if spec.updates is not None:
        certain.append(f"state:{spec.updates}:changed")
    certain.append("agent:completed")
    certain.extend(spec.emits)
    if spec.error_signal is not None:
        possible.append(spec.error_signal)
    return AgentFlow(name, entries_of(spec), tuple(certain), tuple(possible), tuple(spec.emits))


def build_flow(
    agents: Mapping[str, AgentSpec],
    reducers: Sequence[PatternLike | Pattern] | Mapping[Any, Any] | None = None,
    external: Sequence[PatternLike | Pattern] = (),
    state_fields: frozenset[str] | None = None,
) -> Flow:
    """The flow of ``agents`` with ``reducers`` (their patterns, or the ``reducers=`` mapping
    of a run) and ``external`` patterns. ``state_fields`` are the state's keys, when known:
    a reducer may change any of them."""
    reducer_patterns = tuple(compile_pattern(p) for p in (reducers or ()))
    if state_fields is None:
        changes: tuple[Pattern, ...] = (compile_pattern("state:*:changed"),)
    else:
        changes = tuple(compile_pattern(f"state:{key}:changed") for key in sorted(state_fields))
    return Flow(
        agents=tuple(agent_flow(name, spec) for name, spec in agents.items()),
        reducers=reducer_patterns,
        state_changes=changes if reducer_patterns else (),
        external=tuple(compile_pattern(p) for p in external),
    )


def wakes(pattern: Pattern, name: str) -> bool:
    """Whether a signal ``name`` can activate an agent listening on ``pattern``."""
    return name not in NON_TRIGGERING and pattern.matches(name)
