"""Batch values and the results file, shared by every batch executor (local and Ray).

Owns :class:`CaseResult` (one JSONL line each), the aggregate :class:`BatchMetrics`, the
:class:`BatchResult` with its :class:`WorkerIncident` list, and the results file's reading
(resume) and writing. It runs nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .._core._usage import Usage
from .._errors import StoreError
from .._json import converter, dumps

if TYPE_CHECKING:
    from .._define._options import RunSettings

__all__ = [
    "SUSPENDED",
    "BatchMetrics",
    "BatchResult",
    "CaseResult",
    "ModelBatchCounts",
    "ResultWriter",
    "WorkerIncident",
    "aggregate",
    "load_results",
    "model_batch_counts",
    "model_batch_sources",
]


SUSPENDED = "suspended"
"""The status of a case whose run suspended (``on_wait="suspend"``)."""


@attrs.frozen
class CaseResult:
    """The outcome of one case. ``status`` is the run's status (``completed``,
    ``terminated``, ``failed``, ``timeout``, or ``suspended``: waiting, in its journal, for
    outside signals); ``state`` the final (or partial) state as JSON
    data; ``error`` the error text when the case failed; ``run_id`` and ``recording_id`` name
    the case's run and its recording or journal (``None`` when it has none)."""

    case_id: str
    index: int
    status: str
    state: Any
    duration_ms: float
    activations: int = 0
    usage: Usage = Usage()
    cost_usd: float | None = None
    error: str | None = None
    error_type: str | None = None
    run_id: str | None = None
    recording_id: str | None = None
    """The case's recording (or last journal) in the run's store, when it was recorded."""
    resumed: bool = False
    """True when this result was read back from the results file instead of run now."""

    @property
    def ok(self) -> bool:
        """No error (a suspended case is ok, but not finished: see :attr:`suspended`)."""
        return self.error is None

    @property
    def suspended(self) -> bool:
        """The case's run suspended, waiting for outside signals (``on_wait="suspend"``)."""
        return self.status == SUSPENDED and self.error is None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = converter.unstructure(self)
        data.pop("resumed")
        return data


@attrs.frozen
class BatchMetrics:
    """Aggregate figures of a batch (over every case in the result, resumed ones included)."""

    cases: int
    succeeded: int
    failed: int
    failure_rate: float
    wall_ms: float
    cases_per_second: float
    latency_ms: Mapping[str, float]
    """``p50``, ``p90``, ``p99``, ``max`` and ``mean`` of the case durations."""
    usage: Usage
    cost_usd: float | None
    ran: int
    """Cases run by this call (the others were resumed from the results file)."""
    suspended: int = 0
    """Cases whose run suspended waiting for outside signals: neither ``succeeded`` nor
    ``failed`` (``cases == succeeded + failed + suspended``)."""


@attrs.frozen
class BatchResult:
    """Every case's result (in input order) and the aggregate metrics."""

    results: Sequence[CaseResult]
    metrics: BatchMetrics
    incidents: Sequence[WorkerIncident] = ()
    """Workers lost during a Ray batch, with the cases they had in flight."""

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]

    @property
    def suspended(self) -> list[CaseResult]:
        """The cases whose run suspended (resume each with its ``run_id``, then run the
        batch again: see ``run_batch``)."""
        return [r for r in self.results if r.suspended]

    @property
    def affected_cases(self) -> list[str]:
        """Ids of the cases that were in flight on a worker that was lost (sorted)."""
        return sorted({cid for incident in self.incidents for cid in incident.in_flight})


@attrs.frozen
class WorkerIncident:
    """A worker process lost in the middle of a Ray batch (it died, or its node did).

    ``in_flight`` are the cases it held; of those, ``committed`` had already reported their
    result (kept, never run again), ``retried`` were sent to another worker and ``abandoned``
    had used up their attempts and are recorded as failed (``error_type`` ``"WorkerLostError"``).
    """

    worker: str
    error: str
    in_flight: tuple[str, ...]
    committed: tuple[str, ...] = ()
    retried: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()
    node: str | None = None
    """The Ray node id the worker ran on (``None`` if it was lost before it started)."""


def load_results(path: Path | None) -> dict[str, CaseResult]:
    """Read a results file; a torn last line (killed mid-write) is cut off the file."""
    if path is None or not path.exists():
        return {}
    found: dict[str, CaseResult] = {}
    raw = path.read_bytes()
    good_end = 0
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, 1):
        is_last = number == len(lines)
        if not line.strip():
            good_end += len(line) + (0 if is_last else 1)
            continue
        try:
            data = json.loads(line)
            result = converter.structure(data, CaseResult)
        except Exception as exc:
            if is_last:  # torn write: drop it
                break
            raise StoreError(
                f"{path}:{number}: not a batch result line ({exc})", location=f"{path}:{number}"
            ) from exc
        if is_last:  # complete JSON but no newline: keep it, and end the line
            with path.open("ab") as handle:
                handle.write(b"\n")
        found[result.case_id] = result
        good_end += len(line) + 1
    if good_end < len(raw):
        with path.open("r+b") as handle:
            handle.truncate(good_end)
    return found


class ResultWriter:
    """Appends result lines, one write and flush per case, off the event loop."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("a", encoding="utf-8")
        self._lock = trio.Lock()

    async def write(self, result: CaseResult) -> None:
        line = dumps(result.to_dict()) + "\n"
        async with self._lock:
            await trio.to_thread.run_sync(self._write_line, line)

    def _write_line(self, line: str) -> None:
        self._handle.write(line)
        self._handle.flush()

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            async with self._lock:
                await trio.to_thread.run_sync(self._handle.close)


def aggregate(results: Sequence[CaseResult], wall: float, ran: int) -> BatchMetrics:
    """The batch's figures over ``results``; ``ran`` of them were run by this call."""
    durations = sorted(r.duration_ms for r in results if not r.resumed)
    usage = Usage()
    costs = [r.cost_usd for r in results if r.cost_usd is not None]
    for r in results:
        usage = usage + r.usage
    failed = sum(1 for r in results if not r.ok)
    suspended = sum(1 for r in results if r.suspended)
    return BatchMetrics(
        cases=len(results),
        succeeded=len(results) - failed - suspended,
        failed=failed,
        failure_rate=failed / len(results) if results else 0.0,
        wall_ms=wall * 1000,
        cases_per_second=ran / wall if wall > 0 else 0.0,
        latency_ms=_percentiles(durations),
        usage=usage,
        cost_usd=sum(costs) if costs else None,
        ran=ran,
        suspended=suspended,
    )


def _percentiles(ordered: Sequence[float]) -> dict[str, float]:
    if not ordered:
        return {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {
        "p50": at(0.50),
        "p90": at(0.90),
        "p99": at(0.99),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


@attrs.frozen
class ModelBatchCounts:
    """Message Batches of a harness: ``submitted`` so far, ``in_flight`` (submitted or
    collected from a journal, not ended), ``ended``, and requests ``pooled`` (waiting to be
    submitted)."""

    submitted: int = 0
    in_flight: int = 0
    ended: int = 0
    pooled: int = 0

    def __add__(self, other: ModelBatchCounts) -> ModelBatchCounts:
        return ModelBatchCounts(
            self.submitted + other.submitted,
            self.in_flight + other.in_flight,
            self.ended + other.ended,
            self.pooled + other.pooled,
        )


def model_batch_sources(settings: RunSettings[Any]) -> list[Any]:
    """The harnesses of a batch's run ``settings`` that report Message Batches
    (``model_batch_counts()``), each once."""
    agents = settings.agents
    candidates: list[Any] = [settings.harness]
    if isinstance(agents, Mapping):
        candidates += [getattr(spec, "harness", None) for spec in agents.values()]
    found: dict[int, Any] = {}
    for harness in candidates:
        if callable(getattr(harness, "model_batch_counts", None)):
            found.setdefault(id(harness), harness)
    return list(found.values())


def model_batch_counts(sources: Sequence[Any]) -> ModelBatchCounts | None:
    """The sum of ``sources``' counts, ``None`` without sources."""
    if not sources:
        return None
    total = ModelBatchCounts()
    for source in sources:
        total = total + source.model_batch_counts()
    return total
