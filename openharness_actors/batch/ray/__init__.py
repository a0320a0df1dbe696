"""Scale-out: batch runs on a Ray cluster (``pip install 'openharness-actors[ray]'``).

``run_batch(..., ray=True | "address" | RayOptions(...) | pool)`` runs the cases on Ray
workers and gives the same results, progress and results file as the local runner;
:func:`open_ray_pool` keeps workers warm across batches. Only ``_pool`` and ``_driver`` import
``ray``; they are loaded when a batch or a pool asks for Ray, so everything else works without
Ray installed. Modules: ``_options`` (the ``ray=`` argument), ``_shipping`` (what travels, and
that keys do not), ``_bridge`` (awaiting Ray results in trio), ``_coordinators`` (ledger and
cluster-wide limiter actors), ``_worker`` (the worker actor hosting a trio run), ``_pool``
(worker actors: placement, start-up, life cycle), ``_driver`` (one batch's cases). Logging
goes through the library's logger only.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from ._options import RayOptions as RayOptions

if TYPE_CHECKING:
    from ...harness.limits import CallLimits
    from .._book import BatchBook
    from .._case import CaseJob
    from .._results import WorkerIncident
    from ._pool import RayPool

__all__ = ["RayOptions", "open_ray_pool", "run_cases_on_ray"]


def _load(module: str) -> Any:
    """Import a Ray-dependent module, saying which extra to install when Ray is missing."""
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as exc:
        if exc.name not in ("ray", "cloudpickle"):
            raise
        raise ModuleNotFoundError(
            f"batches on Ray need {exc.name}: pip install 'openharness-actors[ray]'",
            name=exc.name,
        ) from exc


@asynccontextmanager
async def open_ray_pool(
    cluster: RayOptions | str | bool = True, *, lanes: int = 8
) -> AsyncIterator[RayPool]:
    """Start warm Ray workers for several ``run_batch(..., ray=pool)`` calls; the workers
    are killed when the block ends (see :mod:`._pool`).

    ``cluster`` takes what ``run_batch``'s ``ray=`` takes (``True``, an address,
    :class:`RayOptions`); ``lanes`` bounds the chunks each worker runs at once. Raises
    ``ModuleNotFoundError`` without the ``[ray]`` extra and :class:`WorkerLostError` when a
    worker cannot start.
    """
    options = RayOptions.from_argument(cluster)
    pool_module = _load("_pool")
    async with pool_module.open_ray_pool(options, lanes=lanes) as pool:
        yield pool


async def run_cases_on_ray(
    job: CaseJob,
    cases: AsyncGenerator[tuple[int, Any, str], None],
    book: BatchBook,
    concurrency: int,
    limits: CallLimits | None,
    where: RayOptions | RayPool | str | bool,
) -> list[WorkerIncident]:
    """Load the Ray driver and run ``cases`` with it (see :mod:`._driver`), on the pool
    ``where`` or on workers started for this batch as ``where`` (``run_batch``'s ``ray=``)
    says.

    Raises ``ValueError`` for a ``where`` that is none of those, and ``ModuleNotFoundError``
    saying which extra to install when Ray is missing.
    """
    options = None if _is_pool(where) else RayOptions.from_argument(where)  # type: ignore[arg-type]
    driver = _load("_driver")
    return await driver.run_cases_on_ray(  # type: ignore[no-any-return]
        job, cases, book, concurrency, limits, options or where
    )


def _is_pool(value: Any) -> bool:
    # without importing ray: a pool exists only where ray was imported to make it
    import sys

    pool_module = sys.modules.get(f"{__name__}._pool")
    return pool_module is not None and isinstance(value, pool_module.RayPool)
