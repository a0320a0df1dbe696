"""Reporters: code that watches every signal of a run and can neither stall nor break it.

A reporter is any object with ``on_signal(signal)``, plain or ``async``. Each reporter reads the
run's log through its own cursor in its own task, so a slow reporter only falls behind; an
exception detaches that reporter (logged as a warning), and the run goes on. Plain reporters
also receive, synchronously, whatever they have not read yet when the run ends, so they always
see ``workflow:end`` — even when the run is cancelled. Async reporters get a bounded grace
period to catch up.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable
from typing import Any, Protocol, runtime_checkable

import trio

from .._logging import get_logger
from ._signal import Signal
from ._signal_log import LogCursor, SignalLog

__all__ = ["Reporter", "ReporterFeed"]


@runtime_checkable
class Reporter(Protocol):
    """Receives every signal of the runs it is attached to, in broker order."""

    def on_signal(self, signal: Signal) -> Awaitable[None] | None: ...


class ReporterFeed:
    """Feeds one reporter from one run's log."""

    def __init__(self, reporter: Reporter, log: SignalLog, run_id: str) -> None:
        self._reporter = reporter
        self._cursor: LogCursor = log.follow()
        self._is_async = inspect.iscoroutinefunction(reporter.on_signal)
        self._detached = False
        self._run_id = run_id
        self.done = trio.Event()

    async def run(self) -> None:
        """The feeding task; ends when the log is closed and read, or the reporter fails."""
        try:
            async for signal in self._cursor:
                if self._detached:
                    return
                outcome: Any = self._reporter.on_signal(signal)
                if self._is_async:
                    await outcome
        except Exception as exc:
            self._detach(exc)
        finally:
            self.done.set()

    def flush(self) -> None:
        """Deliver what is already logged, synchronously (plain reporters only)."""
        if self._is_async or self._detached:
            return
        try:
            for signal in self._cursor.read_available():
                self._reporter.on_signal(signal)
        except Exception as exc:
            self._detach(exc)

    def _detach(self, exc: Exception) -> None:
        self._detached = True
        get_logger(run_id=self._run_id).warning(
            "reporter_failed", reporter=type(self._reporter).__name__, error=repr(exc)
        )
