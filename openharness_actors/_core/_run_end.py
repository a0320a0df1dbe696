"""The end of a run, after ``workflow:end`` is logged: extensions finish, reporters catch up.

:func:`finish_run` runs inside the run's shielded cleanup and decides what the caller learns
about it, so that nothing is lost silently:

* every extension's ``finish`` (a recorder writing what is left and finalizing) gets
  ``CLEANUP_SECONDS`` in all. A :class:`~openharness_actors.OpenHarnessError` it raises (a
  recording that could not be written) fails a run that would otherwise have succeeded — the
  error's ``partial`` is the result, with status ``"failed"`` — and is added to the failures
  of a run that failed anyway; any other exception, or an extension cut by the bound, is
  reported the same way. An extension that chose to downgrade its problem
  (``on_write_error="warn"``) added a warning instead.
* every reporter is waited for until it has handled every signal, ``workflow:end`` included,
  for as long as it makes progress: a reporter is cut only when it handled no signal for
  ``CLEANUP_SECONDS`` (it hangs), or it was detached because it raised. Either way the run's
  ``WorkflowResult.warnings`` and a logged warning say exactly how many signals it missed.

It owns this end-of-run policy only; it does not log signals or build the result's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
import trio

from .._errors import OpenHarnessError, StoreError
from .._logging import get_logger
from ._extension import RunExtension
from ._reporting import ReporterFeed

if TYPE_CHECKING:
    from ._run import RunCore

__all__ = ["CLEANUP_SECONDS", "finish_run"]

CLEANUP_SECONDS = 5.0
"""The bound on the extensions' ``finish`` (in all), and how long a reporter may go without
handling a signal before it is cut."""


async def finish_run(
    core: RunCore,
    status: str,
    extensions: Sequence[RunExtension],
    feeds: Sequence[ReporterFeed],
) -> str:
    """Finish ``extensions`` and wait for ``feeds`` (see the module docstring); returns the
    run's final status and leaves the final result in ``core.result``. Call it shielded."""
    failures = len(core.failures)
    await _finish_extensions(core, extensions)
    await _wait_for_reporters(core, feeds)
    result = core.result
    assert result is not None
    new_failures = core.failures[failures:]
    if new_failures and status in ("completed", "terminated"):
        status = "failed"
    elif new_failures and status != "failed":
        # A timeout or cancellation is raised as such: keep the store problem visible.
        core.warnings.extend(f"{type(e).__name__}: {e}" for e in new_failures)
    if status != result.status or core.warnings:
        core.result = attrs.evolve(result, status=status, warnings=tuple(core.warnings))
    return status


async def _finish_extensions(core: RunCore, extensions: Sequence[RunExtension]) -> None:
    assert core.result is not None
    if not extensions:
        return  # most runs: no cancel scope, no logger
    pending = list(extensions)
    with trio.move_on_after(CLEANUP_SECONDS):
        while pending:
            extension = pending[0]
            try:
                await extension.finish(core.result)
            except OpenHarnessError as exc:
                _failed(core, extension, exc)
            except Exception as exc:
                error = OpenHarnessError(
                    f"run extension {type(extension).__name__} failed to finish: {exc!r}"
                )
                error.__cause__ = exc
                _failed(core, extension, error)
            pending.pop(0)
    for extension in pending:
        message = (
            f"run extension {type(extension).__name__} (recording "
            f"{getattr(extension, 'recording_id', None)!r}) did not finish within "
            f"{CLEANUP_SECONDS}s (a slow or hung store): what it had not written is lost"
        )
        core.extension_errors.append(TimeoutError(message))
        logger: Any = get_logger(run_id=core.run_id)
        logger.error("extension_finish_cut", extension=type(extension).__name__)
        if getattr(extension, "on_write_error", "fail") == "warn":
            core.warnings.append(message)
        else:
            where = getattr(extension, "recording_id", None)
            core.failures.append(StoreError(message, location=where))


def _failed(core: RunCore, extension: RunExtension, error: OpenHarnessError) -> None:
    core.extension_errors.append(error)
    core.failures.append(error)
    logger: Any = get_logger(run_id=core.run_id)
    logger.error("extension_finish_failed", extension=type(extension).__name__, error=repr(error))


async def _wait_for_reporters(core: RunCore, feeds: Sequence[ReporterFeed]) -> None:
    total = len(core.log)
    for feed in feeds:
        while not feed.done.is_set():
            handled = feed.delivered
            with trio.move_on_after(CLEANUP_SECONDS):
                await feed.done.wait()
            if not feed.done.is_set() and feed.delivered == handled:
                feed.cut()
                await feed.done.wait()
        missed = total - feed.delivered
        if missed <= 0:
            continue
        why = (
            f"it raised and was detached ({feed.failure!r})"
            if feed.failure is not None
            else f"it was cut after handling no signal for {CLEANUP_SECONDS}s"
        )
        message = (
            f"reporter {feed.name} missed {missed} of {total} signals "
            f"(workflow:end included): {why}"
        )
        core.warnings.append(message)
        logger: Any = get_logger(run_id=core.run_id)
        logger.warning("reporter_missed_signals", reporter=feed.name, missed=missed, total=total)
