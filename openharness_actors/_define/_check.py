"""Flow analysis before a run: self-waking agents, agents nothing can wake, emits nobody reads.

:func:`check_flow` reads the declared flow (``_flow``) and returns :class:`Finding` values,
glob-aware (patterns are matched against names, and against other patterns through
``_overlap``'s glob intersection):

* ``self_wake`` (warning): an agent's pattern matches a signal its own activation produces —
  its emits, its ``state:<key>:changed``, or a built-in such as ``text:complete`` or
  ``agent:completed`` — so each activation wakes it again. A guard or ``end_when`` may bound
  the loop, hence a warning, not an error.
* ``unreachable`` (warning): no signal a run can produce matches the agent's patterns.
  Producible: ``workflow:start``, the ``external`` patterns, and — transitively, from agents
  that can themselves be reached — every emit, built-in and state change, plus the state
  changes of reducers whose pattern can be reached. A join needs each of its patterns.
* ``unconsumed`` (info): a declared emit that no agent, join or reducer listens to. Often
  meant (a host subscribes to it), so it never fails ``openharness-actors check``.

It never raises on a valid definition and runs nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._agent import AgentSpec
from .._pattern import Pattern, compile_pattern
from ._flow import START, AgentFlow, Entry, Flow, build_flow, wakes
from ._overlap import overlap

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
    """Every finding for ``flow``, agent by agent in definition order."""
    reached = _reachable(flow)
    findings: list[Finding] = []
    for index, agent in enumerate(flow.agents):
        findings.extend(_self_wakes(agent))
        if index not in reached:
            findings.append(_unreachable(agent, flow))
        findings.extend(_unconsumed(agent, flow))
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


def _reachable(flow: Flow) -> set[int]:
    """Indexes of the agents some run can activate (a fixpoint from ``workflow:start``)."""
    producible: list[Pattern] = [compile_pattern(START), *flow.external]
    reached: set[int] = set()
    reducers_live = not flow.reducers
    grew = True
    while grew:
        grew = False
        for index, agent in enumerate(flow.agents):
            if index in reached or not any(_entry_reachable(e, producible) for e in agent.entries):
                continue
            reached.add(index)
            producible.extend(compile_pattern(n) for n in (*agent.certain, *agent.possible))
            grew = True
        if not reducers_live and any(_can_wake(r, p) for r in flow.reducers for p in producible):
            reducers_live = True
            producible.extend(flow.state_changes)
            grew = True
    return reached


def _entry_reachable(entry: Entry, producible: Sequence[Pattern]) -> bool:
    return all(any(_can_wake(p, q) for q in producible) for p in entry.patterns)


def _can_wake(listener: Pattern, produced: Pattern) -> bool:
    if produced.exact is not None:
        return wakes(listener, produced.exact)
    return overlap(listener, produced)


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


def _unconsumed(agent: AgentFlow, flow: Flow) -> Iterable[Finding]:
    listeners = [p for other in flow.agents for p in other.patterns]
    for emit in agent.emits:
        if any(p.matches(emit) for p in listeners) or any(r.matches(emit) for r in flow.reducers):
            continue
        yield Finding(
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
