"""Batch runs: one workflow over many inputs, in this process or on a Ray cluster.

:func:`run_batch` is the entry point. Modules: ``_run`` (``run_batch`` and the local
executor), ``_case`` (one isolated case, shared by every executor), ``_book`` (the driver's
account: resume, results file, counters), ``_results`` (result values and the JSONL results
file), ``_progress`` (progress snapshots and the printer), and ``ray`` (the Ray backend, extra
``[ray]``; only it imports ``ray``, and only when a batch asks for Ray).
"""

from ._progress import BatchProgress as BatchProgress, ProgressPrinter as ProgressPrinter
from ._results import (
    BatchMetrics as BatchMetrics,
    BatchResult as BatchResult,
    CaseResult as CaseResult,
    ModelBatchCounts as ModelBatchCounts,
    WorkerIncident as WorkerIncident,
)
from ._run import run_batch as run_batch
from .ray import RayOptions as RayOptions, open_ray_pool as open_ray_pool

__all__ = [
    "BatchMetrics",
    "BatchProgress",
    "BatchResult",
    "CaseResult",
    "ModelBatchCounts",
    "ProgressPrinter",
    "RayOptions",
    "WorkerIncident",
    "open_ray_pool",
    "run_batch",
]

from .._public import publish as _publish

_publish(globals(), __all__, __name__)
