"""Reporters: code that watches every signal of a run and can neither stall nor break it.

A reporter is any object with ``on_signal(signal)``, plain or ``async``. Each reporter reads the
run's log through its own cursor in its own task, so a slow reporter falls behind without
slowing the run; an exception detaches that reporter (logged as a warning), and the run goes
on. Every reporter receives every signal, ``workflow:end`` included: plain reporters receive,
synchronously, whatever they have not read yet when the run ends; the run waits for async
ones to catch up — even when it was cancelled (the feeding task is shielded) — as long as they
make progress. A reporter that handles no signal for ``CLEANUP_SECONDS`` is cut (``cut``),
and the run's result says how many signals it missed (``_run_end``).
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
        self._scope = trio.CancelScope(shield=True)
        self.done = trio.Event()
        self.delivered = 0
        """How many signals the reporter has handled (``on_signal`` returned)."""
        self.failure: Exception | None = None
        """What the reporter raised, if it was detached."""

    @property
    def name(self) -> str:
        return type(self._reporter).__name__

    async def run(self) -> None:
        """The feeding task; ends when the log is closed and read, the reporter fails, or it
        is cut. Shielded from the run's own cancellation: only :meth:`cut` stops it early."""
        try:
            with self._scope:
                async for signal in self._cursor:
                    if self._detached:
                        return
                    outcome: Any = self._reporter.on_signal(signal)
                    if self._is_async:
                        await outcome
                    self.delivered += 1
        except Exception as exc:
            self._detach(exc)
        finally:
            self.done.set()

    def cut(self) -> None:
        """Stop feeding this reporter now (it is hung); what it did not handle is missed."""
        self._scope.cancel()

    def flush(self) -> None:
        """Deliver what is already logged, synchronously (plain reporters only)."""
        if self._is_async or self._detached:
            return
        try:
            for signal in self._cursor.read_available():
                self._reporter.on_signal(signal)
                self.delivered += 1
        except Exception as exc:
            self._detach(exc)

    def _detach(self, exc: Exception) -> None:
        self._detached = True
        self.failure = exc
        get_logger(run_id=self._run_id).warning(
            "reporter_failed", reporter=type(self._reporter).__name__, error=repr(exc)
        )
