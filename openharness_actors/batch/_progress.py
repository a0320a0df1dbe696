"""Batch progress: the :class:`BatchProgress` snapshot and the :class:`ProgressPrinter`.

Owns how progress looks; it counts nothing itself (the :class:`~._book.BatchBook` does) and
runs nothing.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import TextIO

import attrs

from ._results import ModelBatchCounts

__all__ = ["BatchProgress", "ProgressCallback", "ProgressPrinter"]


@attrs.frozen
class BatchProgress:
    """A progress snapshot: cases done (of ``total`` when known), failed, running, elapsed;
    ``model_batches`` sums the Message Batches of the batch's batch harnesses (``None``
    without one); ``suspended`` counts the done cases whose run suspended."""

    done: int
    failed: int
    running: int
    total: int | None
    elapsed: float
    resumed: int
    model_batches: ModelBatchCounts | None = None
    suspended: int = 0


ProgressCallback = Callable[[BatchProgress], None]


class ProgressPrinter:
    """Prints progress to ``stream`` (stderr): one updating line on a terminal, otherwise a
    line every ``every`` seconds and at the end."""

    def __init__(self, stream: TextIO | None = None, *, every: float = 5.0) -> None:
        self._stream = stream or sys.stderr
        self._tty = self._stream.isatty()
        self._every = every
        self._last = -math.inf
        self._final: BatchProgress | None = None

    def __call__(self, progress: BatchProgress) -> None:
        finished = progress.total is not None and progress.done >= progress.total
        now = time.monotonic()
        if not (self._tty or finished or now - self._last >= self._every):
            return
        if finished:
            figures = (progress.done, progress.failed, progress.running)
            if self._final is not None and figures == (
                self._final.done,
                self._final.failed,
                self._final.running,
            ):
                return  # the final line is printed once
            self._final = progress
        self._last = now
        total = "?" if progress.total is None else str(progress.total)
        rate = progress.done / progress.elapsed if progress.elapsed > 0 else 0.0
        suspended = f"{progress.suspended} suspended, " if progress.suspended else ""
        line = (
            f"batch: {progress.done}/{total} done, {progress.failed} failed, {suspended}"
            f"{progress.running} running, {rate:.1f} cases/s, {progress.elapsed:.1f}s"
        )
        batches = progress.model_batches
        if batches is not None:
            line += (
                f"; model batches: {batches.submitted} submitted, {batches.in_flight} in flight, "
                f"{batches.ended} ended"
            )
        if self._tty:
            self._stream.write("\r\x1b[2K" + line + ("\n" if finished else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()
