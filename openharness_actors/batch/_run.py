"""Batch runs: one workflow over many inputs, for eval and benchmark scripts.

:func:`run_batch` runs a case per input with at most ``concurrency`` runs at once. Each case is
isolated: its failure is recorded and the batch goes on. With ``results_path`` every finished
case is appended to a JSONL file as one line, flushed as it finishes; running the same batch
again with the same file resumes it: cases with a line already are not run again (a torn last
line from a killed process is dropped). Inputs may be a sequence, any iterable (consumed
lazily), an async iterable, or the path of a JSONL file.

This module is the entry point and the local executor: it runs cases in the calling trio run.
``ray=`` hands them to :mod:`openharness_actors.batch.ray` instead. The pieces both share are
:class:`~._book.BatchBook` (the driver's account) and :func:`~._case.run_case` (one case).
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar, Unpack

import trio

from .._budget import BatchBudget, Budget
from .._core._nursery import open_quiet_nursery
from .._define._agent import AgentSpec
from .._define._options import BATCH, BatchKeywords, RunSettings, settings_for
from .._define._workflow import Workflow
from ..harness.limits import CallLimits, LocalCallLimiter, using_call_limiter
from ._book import BatchBook, known_total, pending_cases
from ._case import CaseJob, DefinitionFailure, default_case_id, default_state, run_case
from ._progress import ProgressCallback
from ._results import BatchResult, WorkerIncident, model_batch_sources

if TYPE_CHECKING:
    from .ray import RayOptions
    from .ray._pool import RayPool

__all__ = ["run_batch"]

S = TypeVar("S")


async def run_batch(
    workflow: Workflow[S],
    inputs: Iterable[Any] | AsyncIterable[Any] | str | os.PathLike[str],
    *,
    agents: Mapping[str, AgentSpec],
    state: Callable[[Any], S | Mapping[str, Any]] | None = None,
    case_id: Callable[[Any, int], str] | None = None,
    concurrency: int = 8,
    results_path: str | os.PathLike[str] | None = None,
    retry_failed: bool = False,
    progress: ProgressCallback | bool = False,
    limits: CallLimits | None = None,
    ray: RayOptions | RayPool | str | bool | None = None,
    budget: Budget | None = None,
    run_id: str | Callable[[str], str] | None = None,
    **run_options: Unpack[BatchKeywords[S]],
) -> BatchResult:
    """Run ``workflow`` once per input, ``concurrency`` at a time; see the module docstring.

    ``state(input)`` builds the initial state (default: the input itself for dict states, or
    the input structured into the state type with cattrs). ``case_id(input, index)`` names a
    case (default: the input's ``"id"`` key when it is a mapping, else the index).
    ``agents`` and ``run_options`` are those of :meth:`Workflow.run_reactive` (harness,
    end_when, timeout, recording, journal, external, on_wait…), except that ``run_id`` is a
    prefix or a callable of the case id and ``budget`` is the whole batch's. With
    ``journal=``, case ``c`` runs as ``case-c`` (or as ``run_id`` says) and a case that has a
    journal already (its run was interrupted) is resumed from it instead of run afresh: the
    harness calls it completed are not made again. ``retry_failed`` runs again, on resume, the
    cases that failed before.

    With ``journal=``, ``external=`` and ``on_wait="suspend"``, a case whose run falls quiet
    waiting for outside signals ends ``"suspended"``: it is recorded with that status (counted
    in ``metrics.suspended``, neither succeeded nor failed; ``BatchResult.suspended`` lists
    them, each with its ``run_id``). A suspended case is not finished: running the batch again
    resumes it from its journal (whatever ``retry_failed``), repeating no completed call, and
    records its new status, so to go on, send each case its signals with
    ``workflow.resume(case.run_id, ..., signals=[...])`` (or the CLI's ``signal`` command) and
    run the batch again to collect the results; a case resumed without new signals suspends
    again at once.
    ``progress`` is a callback, or ``True`` for a :class:`ProgressPrinter` on stderr.
    ``limits`` caps the harness calls of the whole batch (concurrency, requests and tokens
    per minute) for every harness that consults a :class:`CallLimiter`.

    ``ray`` runs the cases on a Ray cluster instead of in this process (extra ``[ray]``):
    ``True`` for a local cluster (or the one this process is already connected to), an
    address (``"auto"``, ``"ray://head:10001"``), :class:`RayOptions`, or a pool of warm
    workers from :func:`~openharness_actors.open_ray_pool`. Results, progress
    and the results file are the same; ``concurrency`` still bounds the cases in flight, now
    across the cluster, and ``limits`` hold cluster-wide.

    ``budget`` (a :class:`~openharness_actors.Budget`) is shared by the whole batch: once
    spent no case starts (nor, locally, a model call) and :class:`BudgetExceededError` is
    raised with the partial :class:`BatchResult` (see ``_budget``).

    Raises :class:`WorkflowDefinitionError` when the first case this call runs finds the
    workflow invalid (the batch stops: that is not a per-case failure; later cases whose own
    input is invalid are recorded as failures), and :class:`StoreError` for an unreadable
    results file or input line.
    """
    if not (isinstance(concurrency, int) and concurrency >= 1):
        raise ValueError(f"concurrency must be an integer >= 1, not {concurrency!r}")
    settings: RunSettings[S] = settings_for(BATCH, agents, run_options)
    make_state = state or default_state(workflow)
    book = await BatchBook.open(
        results_path, retry_failed=retry_failed, progress=progress, total=known_total(inputs)
    )
    cases = pending_cases(inputs, case_id or default_case_id, book)
    distributed = ray is not None and ray is not False
    spending = BatchBudget(budget, distributed=distributed) if budget is not None else None
    if spending is not None:  # one ledger for the whole batch: see _budget
        settings, cases = spending.settings(settings), spending.cases(cases)
        book.on_record, book.stop_starting = spending.note, spending.stop_starting
    book.batch_sources = model_batch_sources(settings)
    job = CaseJob(workflow, make_state, settings, run_id)
    incidents: Sequence[WorkerIncident] = ()
    try:
        if ray is not None and ray is not False:
            from .ray import run_cases_on_ray

            incidents = await run_cases_on_ray(job, cases, book, concurrency, limits, ray)
        else:
            await _run_locally(job, cases, book, concurrency, limits)
    finally:
        await book.aclose()
    result = book.result(incidents)
    if spending is not None:
        spending.check(result)
    return result


async def _run_locally(
    job: CaseJob,
    cases: AsyncGenerator[tuple[int, Any, str], None],
    book: BatchBook,
    concurrency: int,
    limits: CallLimits | None,
) -> None:
    limiter = trio.CapacityLimiter(concurrency)
    definition_error: list[BaseException] = []
    probe: list[int] = []  # index of the first case this call runs: it checks the definition

    async def one(index: int, item: Any, cid: str) -> None:
        try:
            result = await run_case(job, item, cid, index, probe=index == probe[0])
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
                if book.stop_starting is not None and book.stop_starting():  # a spent budget
                    limiter.release_on_behalf_of(index)
                    break
                if not probe:
                    probe.append(index)
                book.running += 1
                nursery.start_soon(one, index, item, cid)
    if definition_error:
        raise definition_error[0]
