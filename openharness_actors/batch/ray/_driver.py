"""Batch cases on a Ray cluster: the driver side of ``run_batch(..., ray=...)``.

The only module that imports ``ray``. The driver stays a trio program: it waits on Ray
results through :func:`await_ref` (no thread held per call) and makes Ray's few blocking calls
(``ray.init``, ``ray.put``, ``ray.kill``, ``ray.shutdown``) through ``trio.to_thread``.

Flow: the batch's :class:`Job` (workflow, state builder, run options) is shipped once to
each :class:`CaseWorker` actor; cases go out in chunks from a shared queue, at most
``concurrency`` in flight across the cluster; workers commit finished cases to the
:class:`CaseLedger` actor, from which the driver drains them into the :class:`BatchBook`
(results file, progress) as they arrive. A worker that dies is fenced at the ledger: its
committed cases are kept, the others go back to the front of the queue for another worker
(up to ``max_attempts`` runs), a replacement worker is started, and the loss is reported as a
:class:`WorkerIncident`. Everything the batch started (actors, and a local cluster it had to
start) is gone when it returns.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from typing import Any

import attrs
import ray
import ray.exceptions
import structlog
import trio

from ..._errors import WorkerLostError, WorkflowDefinitionError
from ..._nursery import open_quiet_nursery
from ..._workflow import Workflow
from ...harness.limits import CallLimits
from .._book import BatchBook
from .._results import CaseResult, WorkerIncident
from ._bridge import await_ref
from ._coordinators import CaseLedger, ClusterCallLimiter, Commit
from ._options import RayOptions
from ._shipping import ship, stores_for_workers
from ._worker import CaseWorker, ChunkCase, Job

__all__ = ["run_cases_on_ray"]

_log = structlog.get_logger("openharness_actors.distributed")

_LedgerActor = ray.remote(num_cpus=0)(CaseLedger)
_LimiterActor = ray.remote(num_cpus=0)(ClusterCallLimiter)
_WorkerActor = ray.remote(CaseWorker)
_DRAIN_WAIT = 0.5
_SALVAGE_WAIT = 5.0


async def run_cases_on_ray(
    workflow: Workflow[Any],
    cases: AsyncGenerator[tuple[int, Any, str], None],
    book: BatchBook,
    make_state: Callable[[Any], Any],
    run_options: Mapping[str, Any],
    concurrency: int,
    limits: CallLimits | None,
    options: RayOptions,
) -> list[WorkerIncident]:
    """Run ``cases`` on Ray into ``book``; return the workers lost on the way.

    Raises :class:`WorkflowDefinitionError` for an invalid workflow or a batch that cannot
    travel (a credential in it, something unpicklable), and :class:`WorkerLostError` when
    no worker is left.
    """
    job = ship(Job(workflow, make_state, stores_for_workers(run_options)))
    started_cluster = await trio.to_thread.run_sync(_connect, options)
    driver = _Driver(book, concurrency, options)
    try:
        return await driver.run(job, cases, limits)
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(driver.kill_actors)
            if started_cluster:
                await trio.to_thread.run_sync(ray.shutdown)


def _connect(options: RayOptions) -> bool:
    if ray.is_initialized():
        return False
    init_options = dict(options.init_options)
    if options.address is None:
        init_options.setdefault("include_dashboard", False)
    ray.init(address=options.address, **init_options)
    return True


@attrs.define(eq=False)
class _Case:
    index: int
    case_id: str
    item: Any
    attempt: int = 0
    probe: bool = False

    def shipped(self) -> ChunkCase:
        return ChunkCase(self.index, self.case_id, self.item, self.attempt, self.probe)


@attrs.define(eq=False)
class _Worker:
    name: str
    handle: Any
    lost: bool = False


@attrs.define
class _Loss:
    error: str
    in_flight: list[str] = attrs.Factory(list)
    committed: list[str] = attrs.Factory(list)
    retried: list[str] = attrs.Factory(list)
    abandoned: list[str] = attrs.Factory(list)


class _CaseQueue:
    """Cases waiting for a worker; retried cases jump the queue."""

    def __init__(self) -> None:
        self._cases: deque[_Case] = deque()
        self._lot = trio.lowlevel.ParkingLot()

    def put(self, case: _Case, *, first: bool = False) -> None:
        if first:
            self._cases.appendleft(case)
        else:
            self._cases.append(case)
        self._lot.unpark()

    async def take(self, most: int) -> list[_Case]:
        while not self._cases:
            await self._lot.park()
        taken = [self._cases.popleft() for _ in range(min(most, len(self._cases)))]
        if self._cases:
            self._lot.unpark()
        return taken


class _Driver:
    def __init__(self, book: BatchBook, concurrency: int, options: RayOptions) -> None:
        self._book = book
        self._options = options
        self._cap = trio.CapacityLimiter(concurrency)
        self._concurrency = concurrency
        self._queue = _CaseQueue()
        self._in_flight: dict[int, _Case] = {}
        self._losses: dict[str, _Loss] = {}
        self._workers: list[_Worker] = []
        self._received = 0
        self._feeding = True
        self._all_resolved = trio.Event()
        self._ledger: Any = None
        self._limiter: Any = None
        self._job_ref: Any = None
        self._chunk_size = self._lanes = 1
        self._restarts_left = 0
        self._nursery: trio.Nursery | None = None

    async def run(
        self,
        job: bytes,
        cases: AsyncGenerator[tuple[int, Any, str], None],
        limits: CallLimits | None,
    ) -> list[WorkerIncident]:
        options = self._options
        self._ledger = _LedgerActor.remote()
        if limits is not None:
            self._limiter = _LimiterActor.options(max_concurrency=10_000).remote(limits)
        self._job_ref = await trio.to_thread.run_sync(ray.put, job)
        workers = options.workers
        if workers is None:
            workers = await trio.to_thread.run_sync(_cluster_workers, options)
        self._chunk_size = max(1, min(options.chunk_size, math.ceil(self._concurrency / workers)))
        self._lanes = math.ceil(self._concurrency / (workers * self._chunk_size)) + 1
        self._restarts_left = (
            workers if options.max_worker_restarts is None else options.max_worker_restarts
        )
        try:
            async with open_quiet_nursery() as nursery:
                self._nursery = nursery
                for _ in range(workers):
                    self._start_worker()
                nursery.start_soon(self._drain)
                await self._feed(cases)
                if self._in_flight:
                    await self._all_resolved.wait()
                nursery.cancel_scope.cancel()
        except BaseException:
            await self._salvage()
            raise
        statistics = await await_ref(self._ledger.statistics.remote())
        _log.debug(
            "batch on ray done",
            workers=len(self._workers),
            lost=len(self._losses),
            accepted=statistics.accepted,
            refused=statistics.refused,
            fenced=statistics.fenced,
        )
        return [
            WorkerIncident(
                name,
                loss.error,
                tuple(loss.in_flight),
                tuple(loss.committed),
                tuple(loss.retried),
                tuple(loss.abandoned),
            )
            for name, loss in self._losses.items()
        ]

    def kill_actors(self) -> None:
        """Blocking: kill every actor of the batch (no-op for those already gone)."""
        for handle in [w.handle for w in self._workers] + [self._ledger, self._limiter]:
            if handle is not None:
                ray.kill(handle, no_restart=True)

    async def _feed(self, cases: AsyncGenerator[tuple[int, Any, str], None]) -> None:
        first = True
        async with aclosing(cases) as items:
            async for index, item, cid in items:
                case = _Case(index, cid, item, probe=first)
                first = False
                await self._cap.acquire_on_behalf_of(case)
                self._in_flight[index] = case
                self._book.running += 1
                self._queue.put(case)
        self._feeding = False

    def _start_worker(self) -> None:
        name = f"worker-{len(self._workers)}"
        handle = _WorkerActor.options(
            num_cpus=self._options.worker_cpus,
            max_concurrency=self._lanes + 1,
            max_restarts=0,
        ).remote(name, self._job_ref, self._ledger, self._limiter)
        worker = _Worker(name, handle)
        self._workers.append(worker)
        assert self._nursery is not None
        self._nursery.start_soon(self._serve, worker)

    async def _serve(self, worker: _Worker) -> None:
        try:
            await await_ref(worker.handle.ready.remote())
        except ray.exceptions.RayError as exc:
            raise WorkerLostError(
                f"{worker.name} could not start: {exc}", worker=worker.name
            ) from exc
        assert self._nursery is not None
        for _ in range(self._lanes):
            self._nursery.start_soon(self._lane, worker)

    async def _lane(self, worker: _Worker) -> None:
        while not worker.lost:
            chunk = await self._queue.take(self._chunk_size)
            if worker.lost:  # lost while this lane waited: hand the cases back
                for case in reversed(chunk):
                    self._queue.put(case, first=True)
                return
            shipped = ship([case.shipped() for case in chunk])
            try:
                await await_ref(worker.handle.run_chunk.remote(shipped))
            except ray.exceptions.RayActorError as exc:
                await self._lose(worker, exc, chunk)

    async def _lose(self, worker: _Worker, error: BaseException, chunk: list[_Case]) -> None:
        if not worker.lost:
            worker.lost = True
            self._losses[worker.name] = _Loss(f"{type(error).__name__}: {error}")
            _log.warning("ray worker lost", worker=worker.name, error=type(error).__name__)
            await trio.to_thread.run_sync(lambda: ray.kill(worker.handle, no_restart=True))
            if self._limiter is not None:
                await await_ref(self._limiter.release_holder.remote(worker.name))
            if self._restarts_left > 0:
                self._restarts_left -= 1
                self._start_worker()
            elif not any(not w.lost for w in self._workers):
                raise WorkerLostError(
                    f"every worker was lost (last: {worker.name}: {error})", worker=worker.name
                )
        loss = self._losses[worker.name]
        fenced = [(case.index, case.attempt) for case in chunk]
        committed = set(await await_ref(self._ledger.fence.remote(fenced)))
        for case in chunk:
            loss.in_flight.append(case.case_id)
            if case.index in committed:
                loss.committed.append(case.case_id)
            elif case.attempt + 1 < self._options.max_attempts:
                case.attempt += 1
                loss.retried.append(case.case_id)
                self._queue.put(case, first=True)
            else:
                loss.abandoned.append(case.case_id)
                message = f"its worker died on each of {case.attempt + 1} attempts"
                result = CaseResult(
                    case.case_id, case.index, "failed", None, 0.0,
                    error=message, error_type=WorkerLostError.__name__,
                )  # fmt: skip
                await self._resolve(case.index, result)

    async def _salvage(self) -> None:
        """The batch is failing or cancelled: write out the cases that committed meanwhile,
        so that resuming does not run them again (shielded, a few seconds at most)."""
        with trio.CancelScope(shield=True), trio.move_on_after(_SALVAGE_WAIT):
            commits: list[Commit] = await await_ref(self._ledger.drain.remote(self._received, 0))
            for commit in commits:
                outcome = commit.outcome
                if commit.key in self._in_flight and isinstance(outcome, CaseResult):
                    del self._in_flight[commit.key]
                    await self._book.record(outcome)

    async def _drain(self) -> None:
        while True:
            commits: list[Commit] = await await_ref(
                self._ledger.drain.remote(self._received, _DRAIN_WAIT)
            )
            self._received += len(commits)
            for commit in commits:
                await self._resolve(commit.key, commit.outcome)

    async def _resolve(self, key: int, outcome: Any) -> None:
        case = self._in_flight.pop(key, None)
        if case is None:  # the ledger lets one commit per case through: never expected
            _log.error("duplicate case result ignored", index=key)
            return
        if isinstance(outcome, tuple) and outcome[0] == "definition":
            _, message, agent, problems = outcome
            raise WorkflowDefinitionError(message, agent=agent, problems=problems)
        await self._book.record(outcome)
        self._book.running -= 1
        self._cap.release_on_behalf_of(case)
        self._book.report()
        if not self._feeding and not self._in_flight:
            self._all_resolved.set()


def _cluster_workers(options: RayOptions) -> int:
    cpus = float(ray.cluster_resources().get("CPU", 1.0))  # type: ignore[no-untyped-call]
    return max(1, int(cpus // options.worker_cpus)) if options.worker_cpus > 0 else 1
