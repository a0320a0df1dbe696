"""Batch runs: one workflow over many inputs, for eval and benchmark scripts.

:func:`run_batch` runs a case per input with at most ``concurrency`` runs at once. Each case is
isolated: its failure is recorded and the batch goes on. With ``results_path`` every finished
case is appended to a JSONL file as one line, flushed as it finishes; running the same batch
again with the same file resumes it: cases with a line already are not run again (a torn last
line from a killed process is dropped). Inputs may be a sequence, any iterable (consumed
lazily), an async iterable, or the path of a JSONL file.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any, TextIO, TypeVar

import attrs
import trio

from ._errors import OpenHarnessError, StoreError
from ._json import converter, dumps, to_jsonable
from ._result import WorkflowResult
from ._usage import Usage
from ._workflow import Workflow

__all__ = [
    "BatchMetrics",
    "BatchProgress",
    "BatchResult",
    "CaseResult",
    "ProgressPrinter",
    "run_batch",
]

S = TypeVar("S")


@attrs.frozen
class CaseResult:
    """The outcome of one case. ``status`` is the run's status (``completed``,
    ``terminated``, ``failed``, ``timeout``); ``state`` the final (or partial) state as JSON
    data; ``error`` the error text when the case failed."""

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
    resumed: bool = False
    """True when this result was read back from the results file instead of run now."""

    @property
    def ok(self) -> bool:
        return self.error is None

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


@attrs.frozen
class BatchResult:
    """Every case's result (in input order) and the aggregate metrics."""

    results: Sequence[CaseResult]
    metrics: BatchMetrics

    @property
    def failures(self) -> list[CaseResult]:
        return [r for r in self.results if not r.ok]


@attrs.frozen
class BatchProgress:
    """A progress snapshot: cases done (of ``total`` when known), failed, running, elapsed."""

    done: int
    failed: int
    running: int
    total: int | None
    elapsed: float
    resumed: int


ProgressCallback = Callable[[BatchProgress], None]


class ProgressPrinter:
    """Prints progress to ``stream`` (stderr): one updating line on a terminal, otherwise a
    line every ``every`` seconds and at the end."""

    def __init__(self, stream: TextIO | None = None, *, every: float = 5.0) -> None:
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._every = every
        self._last = -math.inf

    def __call__(self, progress: BatchProgress) -> None:
        finished = progress.total is not None and progress.done >= progress.total
        now = time.monotonic()
        if not (self._tty or finished or now - self._last >= self._every):
            return
        self._last = now
        total = "?" if progress.total is None else str(progress.total)
        rate = progress.done / progress.elapsed if progress.elapsed > 0 else 0.0
        line = (
            f"batch: {progress.done}/{total} done, {progress.failed} failed, "
            f"{progress.running} running, {rate:.1f} cases/s, {progress.elapsed:.1f}s"
        )
        if self._tty:
            self._stream.write("\r\x1b[2K" + line + ("\n" if finished else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()


async def run_batch(
    workflow: Workflow[S],
    inputs: Iterable[Any] | AsyncIterable[Any] | str | os.PathLike[str],
    *,
    state: Callable[[Any], S | Mapping[str, Any]] | None = None,
    case_id: Callable[[Any, int], str] | None = None,
    concurrency: int = 8,
    results_path: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    progress: ProgressCallback | bool = False,
    **run_options: Any,
) -> BatchResult:
    """Run ``workflow`` once per input, ``concurrency`` at a time; see the module docstring.

    ``state(input)`` builds the initial state (default: the input itself for dict states, or
    the input structured into the state type with cattrs). ``case_id(input, index)`` names a
    case (default: the input's ``"id"`` key when it is a mapping, else the index).
    ``run_options`` are those of :meth:`Workflow.run_reactive` (agents, harness, end_when,
    timeout…). ``retry_failed`` runs again, on resume, the cases that failed before.
    ``progress`` is a callback, or ``True`` for a :class:`ProgressPrinter` on stderr.

    Raises :class:`WorkflowDefinitionError` when the first case this call runs finds the
    workflow invalid (the batch stops: that is not a per-case failure; later cases whose own
    input is invalid are recorded as failures), and :class:`StoreError` for an unreadable
    results file or input line.
    """
    if not (isinstance(concurrency, int) and concurrency >= 1):
        raise ValueError(f"concurrency must be an integer >= 1, not {concurrency!r}")
    make_state = state or _default_state(workflow)
    name_case = case_id or _default_case_id
    path = Path(results_path) if results_path is not None else None
    previous = await trio.to_thread.run_sync(_load_results, path) if path else {}
    keep = {cid: r for cid, r in previous.items() if r.ok or not retry_failed}
    printer: ProgressCallback | None = ProgressPrinter() if progress is True else (progress or None)
    total = _known_total(inputs)
    results: dict[int, CaseResult] = {}
    counters = {"done": 0, "failed": 0, "running": 0, "resumed": 0, "ran": 0}
    started = trio.current_time()
    limiter = trio.CapacityLimiter(concurrency)
    writer = _ResultWriter(path) if path else None
    definition_error: list[BaseException] = []
    probe: list[int] = []  # index of the first case this call runs: it checks the definition

    def report() -> None:
        if printer is not None:
            printer(
                BatchProgress(
                    counters["done"],
                    counters["failed"],
                    counters["running"],
                    total,
                    trio.current_time() - started,
                    counters["resumed"],
                )
            )

    async def run_case(index: int, item: Any, cid: str) -> None:
        try:
            counters["running"] += 1
            result = await _run_one(
                workflow, item, cid, index, make_state, run_options, probe=index == probe[0]
            )
            if writer is not None:
                await writer.write(result)
            results[index] = result
            counters["done"] += 1
            counters["ran"] += 1
            counters["failed"] += 0 if result.ok else 1
        except _DefinitionFailure as failure:
            definition_error.append(failure.cause)
            nursery.cancel_scope.cancel()
        finally:
            counters["running"] -= 1
            limiter.release_on_behalf_of(index)
            report()

    try:
        async with trio.open_nursery() as nursery, aclosing(_enumerate(inputs)) as items:
            async for index, item in items:
                cid = name_case(item, index)
                done_before = keep.get(cid)
                if done_before is not None:
                    results[index] = attrs.evolve(done_before, index=index, resumed=True)
                    counters["done"] += 1
                    counters["resumed"] += 1
                    counters["failed"] += 0 if done_before.ok else 1
                    continue
                await limiter.acquire_on_behalf_of(index)
                if not probe:
                    probe.append(index)
                nursery.start_soon(run_case, index, item, cid)
    finally:
        if writer is not None:
            await writer.aclose()
    if definition_error:
        raise definition_error[0]
    report()
    wall = trio.current_time() - started
    ordered = [results[i] for i in sorted(results)]
    return BatchResult(ordered, _aggregate(ordered, wall, counters["ran"]))


class _DefinitionFailure(Exception):
    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def _run_one(
    workflow: Workflow[Any],
    item: Any,
    cid: str,
    index: int,
    make_state: Callable[[Any], Any],
    run_options: Mapping[str, Any],
    *,
    probe: bool,
) -> CaseResult:
    from ._errors import WorkflowDefinitionError

    begun = trio.current_time()
    result: WorkflowResult[Any] | None
    error: BaseException | None = None
    try:
        initial = make_state(item)
    except Exception as exc:
        return CaseResult(
            cid,
            index,
            "failed",
            None,
            0.0,
            error=f"building the state: {exc!r}",
            error_type=type(exc).__name__,
        )
    try:
        result = await workflow.run_reactive(state=initial, **run_options)
    except WorkflowDefinitionError as exc:
        if probe:  # the workflow itself is invalid: stop the batch, do not fail every case
            raise _DefinitionFailure(exc) from exc
        result, error = None, exc
    except OpenHarnessError as exc:
        result, error = exc.partial, exc
    except Exception as exc:
        result, error = None, exc
    duration_ms = (trio.current_time() - begun) * 1000
    if result is None:
        return CaseResult(
            cid,
            index,
            "failed",
            None,
            duration_ms,
            error=str(error),
            error_type=type(error).__name__,
        )
    metrics = result.metrics
    return CaseResult(
        case_id=cid,
        index=index,
        status=result.status,
        state=to_jsonable(result.state),
        duration_ms=duration_ms,
        activations=metrics.activations,
        usage=metrics.usage,
        cost_usd=metrics.cost_usd,
        error=None if error is None else str(error),
        error_type=None if error is None else type(error).__name__,
    )


def _default_state(workflow: Workflow[Any]) -> Callable[[Any], Any]:
    model = workflow.state_model

    def build(item: Any) -> Any:
        if model.kind == "mapping" or isinstance(item, model.state_type):
            return item
        return converter.structure(item, model.state_type)

    return build


def _default_case_id(item: Any, index: int) -> str:
    if isinstance(item, Mapping) and "id" in item:
        return str(item["id"])
    return str(index)


def _known_total(inputs: Any) -> int | None:
    if isinstance(inputs, str | os.PathLike):
        return None
    try:
        return len(inputs)
    except TypeError:
        return None


async def _enumerate(inputs: Any) -> AsyncGenerator[tuple[int, Any], None]:
    if isinstance(inputs, str | os.PathLike):
        index = 0
        async with await trio.open_file(inputs, encoding="utf-8") as lines:
            async for line in lines:
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise StoreError(
                        f"{os.fspath(inputs)}:{index + 1}: input is not JSON ({exc})",
                        location=f"{os.fspath(inputs)}:{index + 1}",
                    ) from exc
                yield index, item
                index += 1
        return
    if isinstance(inputs, AsyncIterable):
        index = 0
        async for item in inputs:
            yield index, item
            index += 1
        return
    for index, item in enumerate(inputs):
        yield index, item


def _load_results(path: Path | None) -> dict[str, CaseResult]:
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


class _ResultWriter:
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


def _aggregate(results: Sequence[CaseResult], wall: float, ran: int) -> BatchMetrics:
    durations = sorted(r.duration_ms for r in results if not r.resumed)
    usage = Usage()
    costs = [r.cost_usd for r in results if r.cost_usd is not None]
    for r in results:
        usage = usage + r.usage
    failed = sum(1 for r in results if not r.ok)
    return BatchMetrics(
        cases=len(results),
        succeeded=len(results) - failed,
        failed=failed,
        failure_rate=failed / len(results) if results else 0.0,
        wall_ms=wall * 1000,
        cases_per_second=ran / wall if wall > 0 else 0.0,
        latency_ms=_percentiles(durations),
        usage=usage,
        cost_usd=sum(costs) if costs else None,
        ran=ran,
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
