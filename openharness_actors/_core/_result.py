"""What a run returns: the final state, the complete trace and the metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from ._signal import Signal
from ._usage import Usage

__all__ = ["AgentMetrics", "Metrics", "WorkflowResult"]

S = TypeVar("S")


@attrs.frozen
class AgentMetrics:
    """One agent's figures for one run.

    ``activations`` counts activations that started (``agent:activated``); ``completed``,
    ``failed`` and ``cancelled`` how they ended; ``skipped`` the triggers refused (guard false
    or run ending); ``restarts`` how often a supervisor restarted it; ``duration_ms`` the summed wall time of its activations; ``usage`` the
    summed token usage of its harness calls; ``retries`` the retried attempts.
    """

    activations: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0
    retries: int = 0
    restarts: int = 0
    duration_ms: float = 0.0
    usage: Usage = Usage()
    cost_usd: float | None = None

    @property
    def mean_duration_ms(self) -> float:
        """Mean wall time of a finished activation (0 when none finished)."""
        finished = self.completed + self.failed + self.cancelled
        return self.duration_ms / finished if finished else 0.0


@attrs.frozen
class Metrics:
    """Figures for one run: wall time, activations, per-agent figures, tokens and signals."""

    duration_ms: float
    activations: int
    agents: Mapping[str, AgentMetrics]
    usage: Usage
    signals: int
    signals_by_name: Mapping[str, int]
    cost_usd: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (for APIs and logs)."""
        return {
            "duration_ms": self.duration_ms,
            "activations": self.activations,
            "signals": self.signals,
            "usage": attrs.asdict(self.usage),
            "cost_usd": self.cost_usd,
            "signals_by_name": dict(self.signals_by_name),
            "agents": {
                name: {**attrs.asdict(figures, recurse=True)}
                for name, figures in self.agents.items()
            },
        }


@attrs.frozen
class WorkflowResult(Generic[S]):
    """The outcome of a run.

    ``state`` is the final state; ``signals`` the complete trace in broker order, from
    ``workflow:start`` to ``workflow:end``; ``status`` one of ``"completed"`` (quiescence),
    ``"terminated"`` (``end_when``), ``"failed"``, ``"timeout"``, ``"cancelled"``;
    ``terminated_early`` is true when ``end_when`` ended the run. ``warnings`` lists what
    went wrong without failing the run: a recording or journal that could not be written
    with ``on_write_error="warn"``, a reporter that missed signals (and how many).
    """

    state: S
    signals: Sequence[Signal]
    metrics: Metrics
    run_id: str
    status: str = "completed"
    terminated_early: bool = False
    recording_id: str | None = None
    warnings: tuple[str, ...] = ()

    def signals_named(self, pattern: str) -> list[Signal]:
        """The signals whose name matches ``pattern`` (the usual pattern dialect)."""
        from .._define._pattern import compile_pattern

        compiled = compile_pattern(pattern)
        return [signal for signal in self.signals if compiled.matches(signal.name)]
