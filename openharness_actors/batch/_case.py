"""One batch case, isolated: build its state, run it (or resume its journal), report it.

Owns :class:`CaseJob` (what every case of a batch shares: workflow, state builder, run
settings), :func:`run_case` (every failure becomes the case's result, except an invalid
workflow found by the probe case: :class:`DefinitionFailure`), the case's run id, and the
default ``state=`` and ``case_id=`` of a batch. Every executor calls it: the local runner and the Ray
workers. It knows nothing of results files, progress or concurrency.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import trio

from .._core._result import WorkflowResult
from .._define._options import RunSettings
from .._define._state import StateModel
from .._define._workflow import Workflow
from .._errors import OpenHarnessError, WorkflowDefinitionError
from .._json import converter, to_jsonable
from ..journal._journal import list_journals
from ._results import CaseResult

__all__ = [
    "CaseJob",
    "DefinitionFailure",
    "case_run_id",
    "default_case_id",
    "default_state",
    "run_case",
]


class DefinitionFailure(Exception):
    """Raised by :func:`run_case` when the probe case finds the workflow itself invalid."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


@attrs.frozen
class CaseJob:
    """What every case of a batch shares (it travels once per Ray worker, see
    ``ray._shipping``): the workflow, the state builder, the run settings and the batch's
    ``run_id`` (a prefix, a callable of the case id, or ``None``; see :func:`case_run_id`)."""

    workflow: Workflow[Any]
    make_state: Callable[[Any], Any]
    settings: RunSettings[Any]
    run_id: str | Callable[[str], str] | None = None


async def run_case(job: CaseJob, item: Any, cid: str, index: int, *, probe: bool) -> CaseResult:
    """Run one case, isolated: every failure becomes the returned result's ``error``.

    Raises :class:`DefinitionFailure` only when ``probe`` and the workflow is invalid.
    """
    begun = trio.current_time()
    result: WorkflowResult[Any] | None
    error: BaseException | None = None
    try:
        initial = job.make_state(item)
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
        result = await _run_or_resume(job, initial, cid)
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


async def _run_or_resume(job: CaseJob, initial: Any, cid: str) -> WorkflowResult[Any]:
    """Run one case; a journaled case whose journal exists (an earlier attempt was lost, or
    the case suspended) is resumed from it instead, so its completed harness calls are not
    made again."""
    journal = job.settings.journal
    run_id = case_run_id(job.run_id, cid, journaled=journal is not None)
    if journal is not None and await list_journals(journal.resolved_store(), run_id):
        return await job.workflow._resume(run_id, job.settings)
    return await job.workflow._execute(attrs.evolve(job.settings, run_id=run_id), initial)


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
    # a class, not a closure, so that it pickles by reference for Ray batches
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
