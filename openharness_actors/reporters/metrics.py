"""MetricsReporter: running totals over every run it watches, read with ``snapshot()``.

A run's own figures are on its result (``WorkflowResult.metrics``); this reporter is for a
process that runs many workflows (a service, a batch) and wants totals across them: runs by
status, signals by name, per-agent figures, latency, tokens and cost. The per-agent figures
are the type a run's result uses, :class:`~openharness_actors.AgentMetrics`, summed over
runs; what only a reporter sees (failed harness calls, the slowest activation) is kept beside
them. Every update is O(1) per signal and synchronous, so it never falls behind. It reads
signals only; it never touches a run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import attrs

from .._core._result import AgentMetrics
from .._core._run import AgentStats
from .._core._signal import Signal
from .._core._usage import Usage
from ._tracking import Timers, usage_of

__all__ = ["MetricsReporter", "MetricsSnapshot"]


@attrs.frozen
class MetricsSnapshot:
    """An immutable view of a :class:`MetricsReporter` at one moment.

    ``agents`` holds each agent's :class:`~openharness_actors.AgentMetrics` summed over every
    run: ``duration_ms`` (and ``mean_duration_ms``) covers finished activations
    (``agent:activated`` to ``agent:completed``/``failed``/``cancelled``), ``restarts``
    counts ``agent:restarted``, ``cost_usd`` sums the harness's estimates (``None`` while no
    call of the agent had a price). ``harness_errors_by_agent`` counts failed harness calls
    (``harness:error``) and ``max_duration_ms_by_agent`` the slowest finished activation, per
    agent. ``cost_usd`` is the total of the known estimates.
    """

    runs_started: int
    runs_running: int
    runs_by_status: Mapping[str, int]
    run_duration_ms_total: float
    signals: int
    signals_by_name: Mapping[str, int]
    agents: Mapping[str, AgentMetrics]
    usage: Usage
    cost_usd: float
    harness_errors_by_agent: Mapping[str, int] = attrs.field(factory=dict)
    max_duration_ms_by_agent: Mapping[str, float] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (for an HTTP endpoint or a log line). Each agent's entry has
        the fields of :class:`~openharness_actors.AgentMetrics` (as ``Metrics.to_dict()``),
        plus ``mean_duration_ms``, ``max_duration_ms`` and ``harness_errors``."""
        return {
            "runs_started": self.runs_started,
            "runs_running": self.runs_running,
            "runs_by_status": dict(self.runs_by_status),
            "run_duration_ms_total": self.run_duration_ms_total,
            "signals": self.signals,
            "signals_by_name": dict(self.signals_by_name),
            "usage": attrs.asdict(self.usage),
            "cost_usd": self.cost_usd,
            "agents": {
                name: {
                    **attrs.asdict(f),
                    "mean_duration_ms": f.mean_duration_ms,
                    "max_duration_ms": self.max_duration_ms_by_agent.get(name, 0.0),
                    "harness_errors": self.harness_errors_by_agent.get(name, 0),
                }
                for name, f in self.agents.items()
            },
        }


_OUTCOMES = {
    "agent:completed": "completed",
    "agent:failed": "failed",
    "agent:cancelled": "cancelled",
}


class MetricsReporter:
    """Accumulates figures from every signal of every run it is attached to."""

    def __init__(self) -> None:
        self._runs_started = 0
        self._runs_by_status: Counter[str] = Counter()
        self._run_ms = 0.0
        self._signals: Counter[str] = Counter()
        self._agents: dict[str, AgentStats] = {}
        self._harness_errors: Counter[str] = Counter()
        self._max_ms: dict[str, float] = {}
        self._timers = Timers()

    def _agent(self, name: str | None) -> AgentStats:
        key = name or "?"
        figures = self._agents.get(key)
        if figures is None:
            figures = self._agents[key] = AgentStats()
        return figures

    def on_signal(self, signal: Signal) -> None:
        """Fold ``signal`` into the totals."""
        name = signal.name
        payload = signal.payload
        self._signals[name] += 1
        if name == "workflow:start":
            self._runs_started += 1
        elif name == "workflow:end":
            self._runs_by_status[str(payload.get("status"))] += 1
            self._run_ms += float(payload.get("duration_ms") or 0.0)
            self._timers.close_run(signal.run_id)
        elif name == "agent:activated":
            self._agent(signal.agent).activations += 1
            self._timers.start(signal.id, signal)
        elif name in _OUTCOMES:
            figures = self._agent(signal.agent)
            setattr(figures, _OUTCOMES[name], getattr(figures, _OUTCOMES[name]) + 1)
            closed = self._timers.stop(signal.parent, signal)
            if closed is not None:
                ms = closed[1] * 1000
                figures.duration_ms += ms
                key = signal.agent or "?"
                self._max_ms[key] = max(self._max_ms.get(key, 0.0), ms)
        elif name == "agent:skipped":
            self._agent(signal.agent).skipped += 1
        elif name == "agent:retry":
            self._agent(signal.agent).retries += 1
        elif name == "agent:restarted":
            self._agent(payload.get("agent") or signal.agent).restarts += 1
        elif name == "harness:error":
            self._agent(signal.agent)
            self._harness_errors[signal.agent or "?"] += 1
        elif name == "harness:end":
            figures = self._agent(signal.agent)
            figures.usage = figures.usage + Usage(**usage_of(signal))
            cost = payload.get("cost_usd")
            if cost is not None:
                figures.cost_usd = (figures.cost_usd or 0.0) + float(cost)

    def snapshot(self) -> MetricsSnapshot:
        """The totals so far, as an immutable value."""
        agents = {name: figures.freeze() for name, figures in sorted(self._agents.items())}
        usage = Usage()
        for figures in agents.values():
            usage = usage + figures.usage
        finished = sum(self._runs_by_status.values())
        return MetricsSnapshot(
            runs_started=self._runs_started,
            runs_running=self._runs_started - finished,
            runs_by_status=dict(self._runs_by_status),
            run_duration_ms_total=self._run_ms,
            signals=sum(self._signals.values()),
            signals_by_name=dict(self._signals),
            agents=agents,
            usage=usage,
            cost_usd=sum((f.cost_usd for f in agents.values() if f.cost_usd is not None), 0.0),
            harness_errors_by_agent=dict(sorted(self._harness_errors.items())),
            max_duration_ms_by_agent=dict(sorted(self._max_ms.items())),
        )
