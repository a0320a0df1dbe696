"""Worker pools: the worker actors a Ray batch runs on, started once, kept warm.

:func:`open_ray_pool` connects to the cluster (or starts a local one), starts the worker
actors, spread over the cluster's nodes, and waits until every one is ready; the pool it
yields can be passed as ``run_batch(..., ray=pool)`` to any number of batches, one at a time,
which then skip the start-up of processes (about a second each). When the block ends the
workers (and the pool's ledger actor, kept on the driver's node) are killed, and a cluster
the pool started is shut down. A batch given plain
:class:`RayOptions` opens a pool of its own for its duration.

Workers lost during a batch are replaced by the batch's driver through
:meth:`RayPool.start_worker`, so the pool stays at strength for the next batch. This module
imports ``ray``; it owns actor placement and life cycle, not cases (that is ``_driver``).
"""

from __future__ import annotations

import math
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import ray
import ray.exceptions
import trio
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from ..._core._nursery import open_quiet_nursery
from ..._errors import WorkerLostError
from ._bridge import await_ref
from ._coordinators import LedgerHost
from ._options import RayOptions
from ._worker import CaseWorker

__all__ = ["PoolWorker", "RayPool", "RayPoolStatistics", "open_pool", "open_ray_pool"]

DEFAULT_LANES = 8
"""Chunks a pool worker runs at once (a temporary pool sizes this to its batch)."""


class _RayCaseWorker(CaseWorker):
    def ready(self) -> tuple[int, str | None]:
        return os.getpid(), ray.get_runtime_context().get_node_id()


_WorkerActor = ray.remote(_RayCaseWorker)
_LedgerActor = ray.remote(num_cpus=0)(LedgerHost)


@attrs.define(eq=False)
class PoolWorker:
    """One worker actor: ``pid`` and ``node`` are known once it is ready."""

    name: str
    handle: Any
    pid: int | None = None
    node: str | None = None
    lost: bool = False

    async def wait_ready(self) -> None:
        """Wait until the actor runs; raises :class:`WorkerLostError` if it cannot start."""
        try:
            self.pid, self.node = await await_ref(self.handle.ready.remote())
        except ray.exceptions.RayError as exc:
            raise WorkerLostError(f"{self.name} could not start: {exc}", worker=self.name) from exc


@attrs.frozen
class RayPoolStatistics:
    """Workers alive now, workers started over the pool's life (replacements included),
    batches run, and the seconds the initial workers took to start."""

    workers: int
    started: int
    batches: int
    startup_seconds: float


class RayPool:
    """Warm worker actors for ``run_batch(..., ray=pool)``; made by :func:`open_ray_pool`."""

    def __init__(self, options: RayOptions, lanes: int, ledger: Any) -> None:
        self.options = options
        self.ledger = ledger
        """The :class:`LedgerHost` actor, on the driver's node, shared by the pool's batches."""
        self.lanes = lanes
        """Chunks each worker runs at once (its actor's ``max_concurrency`` minus one)."""
        self.workers: list[PoolWorker] = []
        self._started = self._batches = 0
        self._startup = 0.0
        self.turn = trio.Lock()
        """Held by the batch running on the pool: batches take turns."""

    def start_worker(self) -> PoolWorker:
        """Start one more worker actor (not yet ready: see :meth:`PoolWorker.wait_ready`)."""
        name = f"worker-{self._started}"
        self._started += 1
        handle = _WorkerActor.options(
            num_cpus=self.options.worker_cpus,
            max_concurrency=self.lanes + 2,
            max_restarts=0,
            scheduling_strategy="SPREAD",
        ).remote(name)
        worker = PoolWorker(name, handle)
        self.workers.append(worker)
        return worker

    def alive(self) -> list[PoolWorker]:
        return [w for w in self.workers if not w.lost]

    def lose(self, worker: PoolWorker) -> None:
        """Blocking: mark ``worker`` lost and kill its actor."""
        worker.lost = True
        ray.kill(worker.handle, no_restart=True)

    def count_batch(self) -> None:
        self._batches += 1

    def statistics(self) -> RayPoolStatistics:
        return RayPoolStatistics(len(self.alive()), self._started, self._batches, self._startup)

    async def _fill(self, count: int) -> None:
        begun = trio.current_time()
        fresh = [self.start_worker() for _ in range(count)]
        async with open_quiet_nursery() as nursery:
            for worker in fresh:
                nursery.start_soon(worker.wait_ready)
        self._startup = trio.current_time() - begun

    def _kill_all(self) -> None:
        for worker in self.workers:
            ray.kill(worker.handle, no_restart=True)
        ray.kill(self.ledger, no_restart=True)


@asynccontextmanager
async def open_ray_pool(
    cluster: RayOptions | str | bool = True, *, lanes: int = DEFAULT_LANES
) -> AsyncIterator[RayPool]:
    """Start warm batch workers; see the module docstring.

    ``cluster`` is what ``run_batch``'s ``ray=`` takes (``True``, an address, or
    :class:`RayOptions`: ``workers``, ``worker_cpus``, ``init_options``…). ``lanes`` bounds
    the chunks each worker runs at once. Raises :class:`WorkerLostError` when a worker cannot
    start.
    """
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
        raise ValueError(f"lanes must be an integer >= 1, not {lanes!r}")
    async with open_pool(RayOptions.from_argument(cluster), lanes=lanes) as pool:
        yield pool


@asynccontextmanager
async def open_pool(
    options: RayOptions, *, lanes: int | None = None, concurrency: int = 1
) -> AsyncIterator[RayPool]:
    """A pool for ``options``; without ``lanes``, sized for one batch of ``concurrency``."""
    started_cluster = await trio.to_thread.run_sync(_connect, options)
    try:
        workers = options.workers
        if workers is None:
            workers = await trio.to_thread.run_sync(_cluster_workers, options)
        if lanes is None:
            chunk = max(1, min(options.chunk_size, math.ceil(concurrency / workers)))
            lanes = math.ceil(concurrency / (workers * chunk)) + 1
        placement = await trio.to_thread.run_sync(driver_node_affinity)
        ledger = _LedgerActor.options(scheduling_strategy=placement).remote()
        pool = RayPool(options, lanes, ledger)
        try:
            await pool._fill(workers)
            yield pool
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(pool._kill_all)
    finally:
        if started_cluster:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(ray.shutdown)


def driver_node_affinity() -> Any:
    """A scheduling strategy keeping an actor on this (the driver's) node, when known:
    coordinators must not die with a worker node."""
    try:
        node = ray.get_runtime_context().get_node_id()
    except Exception:  # a client connection may not know its node
        return "DEFAULT"
    return NodeAffinitySchedulingStrategy(node_id=node, soft=False)  # dies with the driver only


def _connect(options: RayOptions) -> bool:
    if ray.is_initialized():
        return False
    init_options = dict(options.init_options)
    address = options.address
    if address is None:
        init_options.setdefault("include_dashboard", False)
        if "RAY_ADDRESS" not in os.environ:  # not a cluster some other process started here
            address = "local"
    ray.init(address=address, **init_options)
    return True


def _cluster_workers(options: RayOptions) -> int:
    cpus = float(ray.cluster_resources().get("CPU", 1.0))  # type: ignore[no-untyped-call]
    return max(1, int(cpus // options.worker_cpus)) if options.worker_cpus > 0 else 1
