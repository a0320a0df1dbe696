"""Scale-out: batch runs on a Ray cluster (``pip install 'openharness-actors[ray]'``).

``run_batch(..., ray=True | "address" | RayOptions(...))`` runs the cases on Ray workers and
gives the same results, progress and results file as the local runner. Only
:mod:`openharness_actors.batch.ray._driver` imports ``ray``; it is loaded when a batch asks for
Ray, so everything else works without Ray installed. Modules: ``_options`` (the ``ray=``
argument), ``_shipping`` (what travels, and that keys do not), ``_bridge`` (awaiting Ray
results in trio), ``_coordinators`` (ledger and cluster-wide limiter actors), ``_worker`` (the
worker actor hosting a trio run), ``_driver`` (the driver).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._options import RayOptions as RayOptions

if TYPE_CHECKING:
    from ..._workflow import Workflow
    from ...harness.limits import CallLimits
    from .._book import BatchBook
    from .._results import WorkerIncident

__all__ = ["RayOptions", "run_cases_on_ray"]


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
    """Load the Ray driver and run ``cases`` with it (see :mod:`.ray`).

    Raises ``ModuleNotFoundError`` saying which extra to install when Ray is missing.
    """
    try:
        from . import _driver as ray_driver
    except ModuleNotFoundError as exc:
        if exc.name not in ("ray", "cloudpickle"):
            raise
        raise ModuleNotFoundError(
            f"run_batch(ray=...) needs {exc.name}: pip install 'openharness-actors[ray]'",
            name=exc.name,
        ) from exc
    return await ray_driver.run_cases_on_ray(
        workflow, cases, book, make_state, run_options, concurrency, limits, options
    )
