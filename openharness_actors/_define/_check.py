"""Flow analysis before a run: self-waking agents, agents nothing can wake, emits nobody reads.

:func:`check_flow` reads the declared flow (``_flow``) and returns :class:`Finding` values,
glob-aware (patterns are matched against names, and against other patterns through
``_overlap``'s glob intersection):

* ``self_wake`` (warning): an agent's pattern matches a signal its own activation produces —
  its emits, its ``state:<key>:changed``, or a built-in such as ``text:complete`` or
  ``agent:completed`` — so each activation wakes it again. A guard or ``end_when`` may bound
  the loop, hence a warning, not an error.
* ``unreachable`` (warning): no signal a run can produce matches the agent's patterns.
  Producible: ``workflow:start``, the ``external`` patterns (and then ``workflow:waiting``),
  and — transitively, from agents that can themselves be reached — every emit, built-in and
  state change, plus the state changes of reducers whose pattern can be reached. A join
  needs each of its patterns.
* ``unconsumed`` (info): a declared emit that no agent, join or reducer listens to. Often
  meant (a host subscribes to it), so it never fails ``openharness-actors check``.

It never raises on a valid definition and runs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from .._core._routing import NON_TRIGGERING
from ._agent import AgentSpec
from ._flow import START, WAITING, AgentFlow, Entry, Flow, build_flow, wakes
from ._overlap import overlap
from ._pattern import Pattern

__all__ = ["Finding", "check_flow", "log_findings", "self_wake_note"]


@attrs.frozen
class Finding:
    """One result of ``workflow.check``: ``kind`` (``"self_wake"``, ``"unreachable"``,
    ``"unconsumed"``), ``severity`` (``"warning"`` or ``"info"``), the ``agent`` it is
    about and a readable ``message``."""

    kind: str
    severity: str
    agent: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.kind}: {self.message}"


def check_flow(flow: Flow) -> tuple[Finding, ...]:
    """Every finding for ``flow``, agent by agent in definition order.

    Near-linear in the size of the definition: exact patterns are looked up by name, and only
    wildcard listeners are matched against the (distinct) names produced, so checking
    thousands of agents costs milliseconds.
    """
    reached = _Reachability(flow).run()
    consumed = _Consumers(flow)
    findings: list[Finding] = []
    for index, agent in enumerate(flow.agents):
        findings.extend(_self_wakes(agent))
        if index not in reached:
            findings.append(_unreachable(agent, flow))
        findings.extend(
            _unconsumed(agent, emit) for emit in agent.emits if not consumed.listens(emit)
        )
    return tuple(findings)


def _self_wakes(agent: AgentFlow) -> Iterable[Finding]:
    for entry in agent.entries:
        if entry.join is None:
            pattern = entry.patterns[0]
            hits = [name for name in agent.certain if wakes(pattern, name)]
            if hits:
                yield _self_wake(agent, repr(pattern.source), hits)
            continue
        per_pattern = [[n for n in agent.certain if wakes(p, n)] for p in entry.patterns]
        if all(
            len(hits) >= need for hits, need in zip(per_pattern, entry.join.needed, strict=True)
        ):
            hits = list(dict.fromkeys(n for names in per_pattern for n in names))
            yield _self_wake(agent, entry.label, hits)


def _self_wake(agent: AgentFlow, what: str, hits: Sequence[str]) -> Finding:
    signals = ", ".join(repr(n) for n in hits)
    return Finding(
        "self_wake",
        "warning",
        agent.name,
        f"agent {agent.name!r} listens on {what}, which matches {signals}: signal(s) its own "
        "activation produces, so every activation wakes it again (only a guard, end_when or "
        "max_activations stops it)",
    )


T = TypeVar("T")


class _WildIndex(Generic[T]):
    """Wildcard patterns (with a value each) indexed by a literal first or last segment, so
    that the patterns a name may match are found without trying them all: a pattern whose
    first segment has no wildcard only matches names with that first segment (``*`` never
    crosses ``:``, and ``**`` is not in it), and likewise for the last segment."""

    def __init__(self) -> None:
        self.by_first: dict[str, list[tuple[Pattern, T]]] = {}
        self.by_last: dict[str, list[tuple[Pattern, T]]] = {}
        self.others: list[tuple[Pattern, T]] = []
        self.every: list[tuple[Pattern, T]] = []

    def add(self, pattern: Pattern, value: T) -> None:
        self.every.append((pattern, value))
        if pattern.kind == "glob":
            segments = pattern.source.split(":")
            if "*" not in segments[0]:
                self.by_first.setdefault(segments[0], []).append((pattern, value))
                return
            if "*" not in segments[-1]:
                self.by_last.setdefault(segments[-1], []).append((pattern, value))
                return
        self.others.append((pattern, value))

    def matching(self, name: str) -> Iterator[T]:
        """The values of the patterns that match ``name``."""
        first, _, _ = name.partition(":")
        last = name.rpartition(":")[2]
        for bucket in (self.by_first.get(first, ()), self.by_last.get(last, ()), self.others):
            for pattern, value in bucket:
                if pattern.matches(name):
                    yield value


_Slot = tuple[int, int, int]
"""A pattern of an agent's entry: (agent index, entry index, pattern index); the reducers
are agent index -1 with one entry per reducer."""


class _Reachability:
    """Which agents some run can activate: a worklist from ``workflow:start`` and the
    external patterns, adding what each newly reached agent (or reducer) produces."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.entries: dict[tuple[int, int], list[bool]] = {}
        self.exact: dict[str, list[_Slot]] = {}
        self.wild: _WildIndex[_Slot] = _WildIndex()
        listeners = [(i, a.entries) for i, a in enumerate(flow.agents)]
        listeners.append((-1, tuple(Entry((r,)) for r in flow.reducers)))
        for agent, entries in listeners:
            for position, entry in enumerate(entries):
                self.entries[(agent, position)] = [False] * len(entry.patterns)
                for slot, pattern in enumerate(entry.patterns):
                    key = (agent, position, slot)
                    if pattern.exact is not None:
                        self.exact.setdefault(pattern.exact, []).append(key)
                    else:
                        self.wild.add(pattern, key)
        self.names: set[str] = set()
        self.globs: list[Pattern] = []
        self.reached: set[int] = set()
        self.reducers_live = False
        self.todo: list[str | Pattern] = []

    def run(self) -> set[int]:
        self.todo = [START, *self.flow.external]
        if self.flow.external:
            self.todo.append(WAITING)  # a run that takes outside input may wait for it
        while self.todo:
            produced = self.todo.pop()
            if isinstance(produced, str):
                self._name(produced)
            elif produced.exact is not None:
                self._name(produced.exact)
            else:
                self._glob(produced)
        return self.reached

    def _name(self, name: str) -> None:
        if name in self.names or name in NON_TRIGGERING:
            return
        self.names.add(name)
        for key in self.exact.pop(name, ()):
            self._mark(key)
        for key in list(self.wild.matching(name)):
            self._mark(key)

    def _glob(self, produced: Pattern) -> None:
        self.globs.append(produced)
        for name, keys in list(self.exact.items()):
            if produced.matches(name):
                del self.exact[name]
                for key in keys:
                    self._mark(key)
        for pattern, key in self.wild.every:
            if overlap(pattern, produced):
                self._mark(key)

    def _mark(self, key: _Slot) -> None:
        agent, position, slot = key
        flags = self.entries[(agent, position)]
        if flags[slot]:
            return
        flags[slot] = True
        if not all(flags):
            return
        if agent == -1:
            if not self.reducers_live:
                self.reducers_live = True
                self.todo.extend(self.flow.state_changes)
        elif agent not in self.reached:
            self.reached.add(agent)
            flow = self.flow.agents[agent]
            names = self.names
            self.todo.extend(n for n in (*flow.certain, *flow.possible) if n not in names)


class _Consumers:
    """Whether some agent, join or reducer listens to a name (exact patterns indexed)."""

    def __init__(self, flow: Flow) -> None:
        patterns = [p for agent in flow.agents for p in agent.patterns] + list(flow.reducers)
        self.exact = {p.exact for p in patterns if p.exact is not None}
        self.wild: _WildIndex[None] = _WildIndex()
        for pattern in patterns:
            if pattern.exact is None:
                self.wild.add(pattern, None)

    def listens(self, name: str) -> bool:
        return name in self.exact or any(True for _ in self.wild.matching(name))


def _unreachable(agent: AgentFlow, flow: Flow) -> Finding:
    listens = ", ".join(entry.label if entry.join else repr(entry.label) for entry in agent.entries)
    sources = "workflow:start, the reachable agents' emits, built-ins and state changes"
    if flow.reducers:
        sources += ", reducers' state changes"
    if flow.external:
        sources += ", external " + ", ".join(repr(p.source) for p in flow.external)
    return Finding(
        "unreachable",
        "warning",
        agent.name,
        f"agent {agent.name!r} can never activate: nothing a run can produce ({sources}) "
        f"matches {listens}",
    )


def _unconsumed(agent: AgentFlow, emit: str) -> Finding:
    return Finding(
        "unconsumed",
        "info",
        agent.name,
        f"agent {agent.name!r} emits {emit!r}, but no agent, join or reducer listens to it",
    )


def log_findings(findings: Iterable[Finding], logger: Any) -> None:
    """Log each warning among ``findings`` on ``logger`` (a structlog logger), as the event
    ``"flow check: <message>"`` with ``kind`` and ``agent`` bound."""
    warn = logger.warning
    for finding in findings:
        if finding.severity == "warning":
            # The finding is in the event itself: with no logging configured, Python's
            # last-resort handler prints the event alone.
            warn(f"flow check: {finding.message}", kind=finding.kind, agent=finding.agent)


def self_wake_note(agents: Mapping[str, AgentSpec], names: Iterable[str]) -> str:
    """The self-wake findings about the agents ``names``, as a sentence for an error."""
    wanted = set(names)
    chosen = {name: spec for name, spec in agents.items() if name in wanted}
    if not chosen:
        return ""
    found = [f.message for f in check_flow(build_flow(chosen)) if f.kind == "self_wake"]
    return "; check finds: " + "; ".join(found) if found else ""
