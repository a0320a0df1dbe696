"""Batch runs: one workflow over many inputs, for eval and benchmark scripts.

:func:`run_batch` runs a case per input with at most ``concurrency`` runs at once. Each case is
isolated: its failure is recorded and the batch goes on. With ``results_path`` every finished
case is appended to a JSONL file as one line, flushed as it finishes; running the same batch
again with the same file resumes it: cases with a line already are not run again (a torn last
line from a killed process is dropped). Inputs may be a sequence, any iterable (consumed
lazily), an async iterable, or the path of a JSONL file.

The pieces every executor shares live here: :class:`BatchBook` (the driver's account of the
batch: resume, results file, counters, progress), :func:`pending_cases` (the inputs still to
run) and :func:`run_case` (one isolated case). This module runs cases in the calling trio
run; ``ray=`` hands them to :mod:`openharness_actors.batch.ray` instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import trio

from .._errors import OpenHarnessError, StoreError, WorkflowDefinitionError
from .._json import converter, to_jsonable
from .._nursery import open_quiet_nursery
from .._result import WorkflowResult
from .._state import StateModel
from .._workflow import Workflow
from ..harness.limits import CallLimits, LocalCallLimiter, using_call_limiter
from ..journal._journal import list_journals
from ._results import (
    BatchMetrics,
    BatchProgress,
    BatchResult,
    CaseResult,
    ProgressCallback,
    ProgressPrinter,
    ResultWriter,
    WorkerIncident,
    aggregate,
    load_results,
)

if TYPE_CHECKING:
    from .ray import RayOptions

__all__ = [
    "BatchBook",
    "BatchMetrics",
    "BatchProgress",
    "BatchResult",
    "CaseResult",
    "DefinitionFailure",
    "ProgressPrinter",
    "WorkerIncident",
    "pending_cases",
    "run_batch",
    "run_case",
]

S = TypeVar("S")


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
    limits: CallLimits | None = None,
    ray: RayOptions | str | bool | None = None,
    **run_options: Any,
) -> BatchResult:
    """Run ``workflow`` once per input, ``concurrency`` at a time; see the module docstring.

    ``state(input)`` builds the initial state (default: the input itself for dict states, or
    the input structured into the state type with cattrs). ``case_id(input, index)`` names a
    case (default: the input's ``"id"`` key when it is a mapping, else the index).
    ``run_options`` are those of :meth:`Workflow.run_reactive` (agents, harness, end_when,
    timeout, recording…), except that ``run_id`` is a prefix or a callable of the case id. With
    ``journal=``, case ``c`` runs as ``case-c`` (or as ``run_id`` says) and a case that has a
    journal already (its run was interrupted) is resumed from it instead of run afresh: the
    harness calls it completed are not made again. ``retry_failed`` runs again, on resume, the cases that failed before.
    ``progress`` is a callback, or ``True`` for a :class:`ProgressPrinter` on stderr.
    ``limits`` caps the harness calls of the whole batch (concurrency, requests and tokens
    per minute) for every harness that consults a :class:`CallLimiter`.

    ``ray`` runs the cases on a Ray cluster instead of in this process (extra ``[ray]``):
    ``True`` for a local cluster (or the one this process is already connected to), an
    address (``"auto"``, ``"ray://head:10001"``), or :class:`RayOptions`. Results, progress
    and the results file are the same; ``concurrency`` still bounds the cases in flight, now
    across the cluster, and ``limits`` hold cluster-wide.

    Raises :class:`WorkflowDefinitionError` when the first case this call runs finds the
    workflow invalid (the batch stops: that is not a per-case failure; later cases whose own
    input is invalid are recorded as failures), and :class:`StoreError` for an unreadable
    results file or input line.
    """
    if not (isinstance(concurrency, int) and concurrency >= 1):
        raise ValueError(f"concurrency must be an integer >= 1, not {concurrency!r}")
    make_state = state or default_state(workflow)
    book = await BatchBook.open(
        results_path, retry_failed=retry_failed, progress=progress, total=known_total(inputs)
    )
    cases = pending_cases(inputs, case_id or default_case_id, book)
    incidents: Sequence[WorkerIncident] = ()
    try:
        if ray is not None and ray is not False:
            from .ray import RayOptions, run_cases_on_ray

            options = RayOptions.from_argument(ray)
            incidents = await run_cases_on_ray(
                workflow, cases, book, make_state, run_options, concurrency, limits, options
            )
        else:
            await _run_locally(workflow, cases, book, make_state, run_options, concurrency, limits)
    finally:
        await book.aclose()
    return book.result(incidents)


async def _run_locally(
    workflow: Workflow[Any],
    cases: AsyncGenerator[tuple[int, Any, str], None],
    book: BatchBook,
    make_state: Callable[[Any], Any],
    run_options: Mapping[str, Any],
    concurrency: int,
    limits: CallLimits | None,
) -> None:
    limiter = trio.CapacityLimiter(concurrency)
    definition_error: list[BaseException] = []
    probe: list[int] = []  # index of the first case this call runs: it checks the definition

    async def one(index: int, item: Any, cid: str) -> None:
        try:
            result = await run_case(
                workflow, item, cid, index, make_state, run_options, probe=index == probe[0]
            )
            await book.record(result)
        except DefinitionFailure as failure:
            definition_error.append(failure.cause)
            nursery.cancel_scope.cancel()
        finally:
            book.running -= 1
            limiter.release_on_behalf_of(index)
            book.report()

    call_limiter = LocalCallLimiter(limits) if limits is not None else None
    with using_call_limiter(call_limiter):
        async with open_quiet_nursery() as nursery, aclosing(cases) as items:
            async for index, item, cid in items:
                await limiter.acquire_on_behalf_of(index)
                if not probe:
                    probe.append(index)
                book.running += 1
                nursery.start_soon(one, index, item, cid)
    if definition_error:
        raise definition_error[0]


class BatchBook:
    """The driver's account of one batch, whichever executor runs the cases.

    It holds the results read back from the results file (resume), records each finished
    case (results file first, then counters and progress), counts the cases in flight
    (``running``, kept by the executor) and builds the :class:`BatchResult`. Open it with
    :meth:`open`; :meth:`aclose` closes the results file.
    """

    def __init__(
        self,
        previous: Mapping[str, CaseResult],
        writer: ResultWriter | None,
        printer: ProgressCallback | None,
        total: int | None,
    ) -> None:
        self._previous = previous
        self._writer = writer
        self._printer = printer
        self.total = total
        self._results: dict[int, CaseResult] = {}
        self.done = self.failed = self.running = self.resumed = self.ran = 0
        self._started = trio.current_time()

    @classmethod
    async def open(
        cls,
        results_path: str | os.PathLike[str] | None,
        *,
        retry_failed: bool,
        progress: ProgressCallback | bool,
        total: int | None,
    ) -> BatchBook:
        """Read ``results_path`` (resume) and open it for appending."""
        path = Path(results_path) if results_path is not None else None
        previous = await trio.to_thread.run_sync(load_results, path) if path else {}
        keep = {cid: r for cid, r in previous.items() if r.ok or not retry_failed}
        printer = ProgressPrinter() if progress is True else (progress or None)
        return cls(keep, ResultWriter(path) if path else None, printer, total)

    def take_resumed(self, index: int, cid: str) -> bool:
        """If case ``cid`` finished in an earlier call, count it as done and return True."""
        done_before = self._previous.get(cid)
        if done_before is None:
            return False
        self._results[index] = attrs.evolve(done_before, index=index, resumed=True)
        self.done += 1
        self.resumed += 1
        self.failed += 0 if done_before.ok else 1
        return True

    async def record(self, result: CaseResult) -> None:
        """Write ``result`` to the results file, then count it (progress is the caller's)."""
        if self._writer is not None:
            await self._writer.write(result)
        self._results[result.index] = result
        self.done += 1
        self.ran += 1
        self.failed += 0 if result.ok else 1

    def report(self) -> None:
        """Show the progress callback a fresh snapshot."""
        if self._printer is not None:
            self._printer(
                BatchProgress(
                    self.done,
                    self.failed,
                    self.running,
                    self.total,
                    trio.current_time() - self._started,
                    self.resumed,
                )
            )

    async def aclose(self) -> None:
        if self._writer is not None:
            await self._writer.aclose()

    def result(self, incidents: Sequence[WorkerIncident] = ()) -> BatchResult:
        """The batch's result so far, in input order (reports progress one last time)."""
        self.report()
        wall = trio.current_time() - self._started
        ordered = [self._results[i] for i in sorted(self._results)]
        return BatchResult(ordered, aggregate(ordered, wall, self.ran), tuple(incidents))


async def pending_cases(
    inputs: Any, name_case: Callable[[Any, int], str], book: BatchBook
) -> AsyncGenerator[tuple[int, Any, str], None]:
    """Yield ``(index, input, case_id)`` for every input ``book`` has no result for yet."""
    async with aclosing(_enumerate(inputs)) as items:
        async for index, item in items:
            cid = name_case(item, index)
            if not book.take_resumed(index, cid):
                yield index, item, cid


class DefinitionFailure(Exception):
    """Raised by :func:`run_case` when the probe case finds the workflow itself invalid."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def run_case(
    workflow: Workflow[Any],
    item: Any,
    cid: str,
    index: int,
    make_state: Callable[[Any], Any],
    run_options: Mapping[str, Any],
    *,
    probe: bool,
) -> CaseResult:
    """Run one case, isolated: every failure becomes the returned result's ``error``.

    Raises :class:`DefinitionFailure` only when ``probe`` and the workflow is invalid.
    """
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
        result = await _run_or_resume(workflow, initial, cid, run_options)
    except WorkflowDefinitionError as exc:
        if probe:  # the workflow itself is invalid: stop the batch, do not fail every case
            raise DefinitionFailure(exc) from exc
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
        run_id=result.run_id,
        recording_id=result.recording_id,
    )


_RESUME_OPTIONS = frozenset(
    [
        "journal",
        "agents",
        "harness",
        "end_when",
        "timeout",
        "reducers",
        "reporters",
        "max_activations",
        "on_end",
        "restart",
        "mailbox_size",
        "inbox_size",
    ]
)


async def _run_or_resume(
    workflow: Workflow[Any], initial: Any, cid: str, run_options: Mapping[str, Any]
) -> WorkflowResult[Any]:
    """Run one case; a journaled case whose journal exists (an earlier attempt was lost) is
    resumed from it instead, so its completed harness calls are not made again."""
    options = dict(run_options)
    run_id = case_run_id(options.pop("run_id", None), cid, journaled="journal" in options)
    journal = options.get("journal")
    if journal is not None and await list_journals(journal.resolved_store(), run_id):
        resume = {k: v for k, v in options.items() if k in _RESUME_OPTIONS}
        return await workflow.resume(run_id, **resume)
    return await workflow.run_reactive(state=initial, run_id=run_id, **options)


def case_run_id(run_id: Any, cid: str, *, journaled: bool) -> Any:
    """A case's run id from a batch's ``run_id=``: a callable of the case id, or a prefix
    (``"<prefix>-<case id>"``); without one, journaled cases are ``"case-<case id>"`` and the
    others get a fresh id."""
    if callable(run_id):
        return run_id(cid)
    if isinstance(run_id, str):
        return f"{run_id}-{cid}"
    return f"case-{cid}" if journaled else run_id


def default_state(workflow: Workflow[Any]) -> Callable[[Any], Any]:
    """The default ``state=``: the input itself, or structured into the state type."""
    return _DefaultState(workflow.state_model)


@attrs.frozen
class _DefaultState:
    # a class, not a closure, so that it pickles by reference for distributed batches
    model: StateModel

    def __call__(self, item: Any) -> Any:
        if self.model.kind == "mapping" or isinstance(item, self.model.state_type):
            return item
        return converter.structure(item, self.model.state_type)


def default_case_id(item: Any, index: int) -> str:
    """The default ``case_id=``: the input's ``"id"`` when it has one, else its index."""
    if isinstance(item, Mapping) and "id" in item:
        return str(item["id"])
    return str(index)


def known_total(inputs: Any) -> int | None:
    """How many inputs there are, when that is known without consuming them."""
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
