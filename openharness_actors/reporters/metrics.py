"""MetricsReporter: running totals over every run it watches, read with ``snapshot()``.

A run's own figures are on its result (``WorkflowResult.metrics``); this reporter is for a
process that runs many workflows (a service, a batch) and wants totals across them: runs by
status, signals by name, per-agent activations, outcomes, latency, tokens and cost. Every
update is O(1) per signal and synchronous, so it never falls behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import attrs

from .._core._signal import Signal
from .._core._usage import Usage
from ._tracking import Timers, usage_of

__all__ = ["AgentFigures", "MetricsReporter", "MetricsSnapshot"]


@attrs.frozen
class AgentFigures:
    """One agent's totals across runs.

    ``latency_ms_total``/``latency_ms_max`` cover finished activations (``agent:activated``
    to ``agent:completed``/``failed``/``cancelled``); ``cost_usd`` sums the harness's estimates.
    """

    activations: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0
    retries: int = 0
    harness_errors: int = 0
    latency_ms_total: float = 0.0
    latency_ms_max: float = 0.0
    usage: Usage = Usage()
    cost_usd: float = 0.0

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled

    @property
    def latency_ms_mean(self) -> float:
        """Mean latency of a finished activation (0 when none finished)."""
        return self.latency_ms_total / self.finished if self.finished else 0.0


@attrs.frozen
class MetricsSnapshot:
    """An immutable view of a :class:`MetricsReporter` at one moment."""

    runs_started: int
    runs_running: int
    runs_by_status: Mapping[str, int]
    run_duration_ms_total: float
    signals: int
    signals_by_name: Mapping[str, int]
    agents: Mapping[str, AgentFigures]
    usage: Usage
    cost_usd: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (for an HTTP endpoint or a log line)."""
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
                name: {**attrs.asdict(f), "latency_ms_mean": f.latency_ms_mean}
                for name, f in self.agents.items()
            },
        }


@attrs.define
class _Agent:
    activations: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0
    retries: int = 0
    harness_errors: int = 0
    latency_ms_total: float = 0.0
    latency_ms_max: float = 0.0
    usage: Usage = Usage()
    cost_usd: float = 0.0


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
        self._agents: dict[str, _Agent] = {}
        self._timers = Timers()

    def _agent(self, name: str | None) -> _Agent:
        key = name or "?"
        figures = self._agents.get(key)
        if figures is None:
            figures = self._agents[key] = _Agent()
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
                figures.latency_ms_total += ms
                figures.latency_ms_max = max(figures.latency_ms_max, ms)
        elif name == "agent:skipped":
            self._agent(signal.agent).skipped += 1
        elif name == "agent:retry":
            self._agent(signal.agent).retries += 1
        elif name == "harness:error":
            self._agent(signal.agent).harness_errors += 1
        elif name == "harness:end":
            figures = self._agent(signal.agent)
            figures.usage = figures.usage + Usage(**usage_of(signal))
            figures.cost_usd += float(payload.get("cost_usd") or 0.0)

    def snapshot(self) -> MetricsSnapshot:
        """The totals so far, as an immutable value."""
        agents = {
            name: AgentFigures(**attrs.asdict(figures, recurse=False))
            for name, figures in sorted(self._agents.items())
        }
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
            cost_usd=sum(f.cost_usd for f in agents.values()),
        )
