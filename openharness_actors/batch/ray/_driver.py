"""Batch cases on a Ray cluster: the driver side of ``run_batch(..., ray=...)``.

The driver stays a trio program: it waits on Ray results through :func:`await_ref` (no
thread held per call) and makes Ray's few blocking calls (``ray.put``, ``ray.kill``) through
``trio.to_thread``.

Flow: the batch runs on a :class:`RayPool` (the caller's warm one, or one opened for this
batch); the batch's :class:`CaseJob` (workflow, state builder, run settings) is shipped once to
each worker with ``begin``. Cases go out in chunks from a shared queue to the workers' free
*slots* (``lanes`` per worker), handed out in turn so every worker gets work, at most
``concurrency`` cases in flight across the cluster; workers commit finished cases to the
batch's :class:`CaseLedger` (in the pool's ledger actor, on the driver's node), from which the driver drains them into
the :class:`BatchBook` (results file, progress) as they arrive. A worker that dies (its
process, or its whole node) is fenced at the ledger: its committed cases are kept, the others
go back to the front of the queue for another worker (up to ``max_attempts`` runs), a
replacement worker joins the pool, and the loss is reported as a :class:`WorkerIncident`
naming the worker and its node. The batch's limiter actor is gone when it returns; the
pool's workers and ledger stay (a pool of the batch's own is closed).
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections import deque
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import attrs
import ray
import ray.exceptions
import trio

from ..._core._nursery import open_quiet_nursery
from ..._errors import WorkerLostError, WorkflowDefinitionError
from ..._logging import get_logger
from ...harness.limits import CallLimits
from .._book import BatchBook
from .._case import CaseJob
from .._results import CaseResult, WorkerIncident
from ._bridge import await_ref
from ._coordinators import ClusterCallLimiter, Commit, LedgerStatistics
from ._options import RayOptions
from ._pool import PoolWorker, RayPool, driver_node_affinity, open_pool
from ._shipping import ship, stores_for_workers
from ._worker import ChunkCase

__all__ = ["run_cases_on_ray"]

_LimiterActor = ray.remote(num_cpus=0)(ClusterCallLimiter)
_DRAIN_WAIT = 0.5
_SALVAGE_WAIT = 5.0
_END_WAIT = 5.0


def _log() -> Any:
    return get_logger(component="batch.ray")


async def run_cases_on_ray(
    job: CaseJob,
    cases: AsyncGenerator[tuple[int, Any, str], None],
    book: BatchBook,
    concurrency: int,
    limits: CallLimits | None,
    where: RayOptions | RayPool,
) -> list[WorkerIncident]:
    """Run ``cases`` on Ray into ``book``; return the workers lost on the way.

    Raises :class:`WorkflowDefinitionError` for an invalid workflow or a batch that cannot
    travel (a credential in it, something unpicklable), and :class:`WorkerLostError` when
    no worker is left.
    """
    shipped = ship(attrs.evolve(job, settings=stores_for_workers(job.settings)))
    if isinstance(where, RayPool):
        async with where.turn:
            return await _Driver(book, concurrency, where).run(shipped, cases, limits)
    async with open_pool(where, concurrency=concurrency) as pool:
        return await _Driver(book, concurrency, pool).run(shipped, cases, limits)


@attrs.define(eq=False)
class _Case:
    index: int
    case_id: str
    item: Any
    attempt: int = 0
    probe: bool = False

    def shipped(self) -> ChunkCase:
        return ChunkCase(self.index, self.case_id, self.item, self.attempt, self.probe)


@attrs.define
class _Loss:
    error: str
    node: str | None
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
        return [self._cases.popleft() for _ in range(min(most, len(self._cases)))]


class _Driver:
    def __init__(self, book: BatchBook, concurrency: int, pool: RayPool) -> None:
        self._book = book
        self._pool = pool
        self._options = pool.options
        self._batch = f"batch-{uuid.uuid4().hex[:12]}"
        self._cap = trio.CapacityLimiter(concurrency)
        self._concurrency = concurrency
        self._queue = _CaseQueue()
        self._in_flight: dict[int, _Case] = {}
        self._losses: dict[str, _Loss] = {}
        self._joined: list[PoolWorker] = []
        self._free_send, self._free = trio.open_memory_channel[PoolWorker](math.inf)
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
        options, pool = self._options, self._pool
        pool.count_batch()
        self._ledger = pool.ledger
        await await_ref(self._ledger.open.remote(self._batch))
        if limits is not None:
            placement = await trio.to_thread.run_sync(driver_node_affinity)
            self._limiter = _LimiterActor.options(
                max_concurrency=10_000, scheduling_strategy=placement
            ).remote(limits)
        self._job_ref = await trio.to_thread.run_sync(ray.put, job)
        ready = [w for w in pool.alive() if w.pid is not None]
        starting = [w for w in pool.alive() if w.pid is None]  # replacements still starting
        if not ready and not starting:
            raise WorkerLostError("the Ray pool has no worker left")
        workers = len(ready) or len(starting)
        self._chunk_size = max(1, min(options.chunk_size, math.ceil(self._concurrency / workers)))
        wanted = math.ceil(self._concurrency / (workers * self._chunk_size)) + 1
        self._lanes = min(pool.lanes, wanted)
        self._restarts_left = (
            workers if options.max_worker_restarts is None else options.max_worker_restarts
        )
        statistics: LedgerStatistics | None = None
        try:
            async with open_quiet_nursery() as nursery:
                self._nursery = nursery
                async with open_quiet_nursery() as joining:  # every ready worker takes the batch
                    for worker in ready:
                        joining.start_soon(self._join, worker)
                for _ in range(self._lanes):  # slots in turn: each worker gets work first
                    for worker in self._joined:
                        self._free_send.send_nowait(worker)
                for worker in starting:
                    nursery.start_soon(self._serve_late, worker)
                nursery.start_soon(self._drain)
                nursery.start_soon(self._dispatch)
                await self._feed(cases)
                if self._in_flight:
                    await self._all_resolved.wait()
                nursery.cancel_scope.cancel()
        except BaseException:
            await self._salvage()
            raise
        finally:
            with trio.CancelScope(shield=True):
                await self._end()
                statistics = await await_ref(self._ledger.close.remote(self._batch))
                if self._limiter is not None:
                    limiter = self._limiter
                    await trio.to_thread.run_sync(lambda: ray.kill(limiter, no_restart=True))
        assert statistics is not None  # opened above, closed once
        _log().debug(
            "batch on ray done",
            workers=len(self._joined),
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
                node=loss.node,
            )
            for name, loss in self._losses.items()
        ]

    async def _join(self, worker: PoolWorker) -> None:
        """Give ``worker`` the batch; a worker lost meanwhile is left out."""
        try:
            await await_ref(
                worker.handle.begin.remote(self._batch, self._job_ref, self._ledger, self._limiter)
            )
        except ray.exceptions.RayActorError as exc:
            await self._lose(worker, exc, [])
            return
        self._joined.append(worker)

    async def _end(self) -> None:
        """Tell the pool's workers the batch is over: what still runs of it is cancelled."""
        with trio.move_on_after(_END_WAIT):
            async with open_quiet_nursery() as nursery:
                for worker in self._pool.alive():
                    nursery.start_soon(self._end_on, worker)

    async def _end_on(self, worker: PoolWorker) -> None:
        with contextlib.suppress(ray.exceptions.RayError):  # gone: nothing of the batch left
            await await_ref(worker.handle.end.remote(self._batch))

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

    async def _dispatch(self) -> None:
        """Hand the queued cases, a chunk at a time, to free slots in the order they freed."""
        assert self._nursery is not None
        async for worker in self._free:
            if worker.lost:
                continue
            chunk = await self._queue.take(self._chunk_size)
            if worker.lost:  # lost while this slot waited: the chunk goes to the next
                for case in reversed(chunk):
                    self._queue.put(case, first=True)
                continue
            self._nursery.start_soon(self._send, worker, chunk)

    async def _send(self, worker: PoolWorker, chunk: list[_Case]) -> None:
        shipped = ship([case.shipped() for case in chunk])
        try:
            await await_ref(worker.handle.run_chunk.remote(self._batch, shipped))
        except ray.exceptions.RayActorError as exc:
            await self._lose(worker, exc, chunk)
            return
        self._free_send.send_nowait(worker)

    async def _serve_late(self, worker: PoolWorker | None = None) -> None:
        """Bring in a worker still starting (a new replacement when ``worker`` is None)."""
        if worker is None:
            worker = self._pool.start_worker()
        try:
            await worker.wait_ready()
        except WorkerLostError as exc:
            await self._lose(worker, exc, [])
            return
        await self._join(worker)
        if worker in self._joined:
            for _ in range(self._lanes):
                self._free_send.send_nowait(worker)

    async def _lose(self, worker: PoolWorker, error: BaseException, chunk: list[_Case]) -> None:
        if worker.name not in self._losses:
            self._losses[worker.name] = _Loss(f"{type(error).__name__}: {error}", worker.node)
            _log().warning(
                "ray worker lost", worker=worker.name, node=worker.node, error=type(error).__name__
            )
            await trio.to_thread.run_sync(self._pool.lose, worker)
            if self._limiter is not None:
                await await_ref(self._limiter.release_holder.remote(worker.name))
            if self._restarts_left > 0:
                self._restarts_left -= 1
                assert self._nursery is not None
                self._nursery.start_soon(self._serve_late)
            elif not self._pool.alive():
                raise WorkerLostError(
                    f"every worker was lost (last: {worker.name}: {error})", worker=worker.name
                )
        loss = self._losses[worker.name]
        fenced = [(case.index, case.attempt) for case in chunk]
        committed = (
            set(await await_ref(self._ledger.fence.remote(self._batch, fenced)))
            if fenced
            else set()
        )
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
            commits: list[Commit] = await await_ref(
                self._ledger.drain.remote(self._batch, self._received, 0)
            )
            for commit in commits:
                outcome = commit.outcome
                if commit.key in self._in_flight and isinstance(outcome, CaseResult):
                    del self._in_flight[commit.key]
                    await self._book.record(outcome)

    async def _drain(self) -> None:
        while True:
            commits: list[Commit] = await await_ref(
                self._ledger.drain.remote(self._batch, self._received, _DRAIN_WAIT)
            )
            self._received += len(commits)
            for commit in commits:
                await self._resolve(commit.key, commit.outcome)

    async def _resolve(self, key: int, outcome: CaseResult | tuple[Any, ...]) -> None:
        case = self._in_flight.pop(key, None)
        if case is None:  # the ledger lets one commit per case through: never expected
            _log().error("duplicate case result ignored", index=key)
            return
        if isinstance(outcome, tuple):
            _, message, agent, problems = outcome
            raise WorkflowDefinitionError(message, agent=agent, problems=problems)
        await self._book.record(outcome)
        self._book.running -= 1
        self._cap.release_on_behalf_of(case)
        self._book.report()
        if not self._feeding and not self._in_flight:
            self._all_resolved.set()
