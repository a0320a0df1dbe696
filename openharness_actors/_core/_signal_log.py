"""The run's signal log: the complete trace, in broker order, and cursors that follow it.

Only the broker appends. Readers (run handles, reporters, tests) follow it with a
:class:`LogCursor`, which never blocks the writer: the log itself is the buffer, so a slow
reader cannot stall a run, and a reader that starts late still sees every signal.
"""

from __future__ import annotations

from collections.abc import Iterator

import trio

from .._define._pattern import Pattern, PatternLike, compile_pattern
from ._signal import Signal

__all__ = ["LogCursor", "SignalLog"]


class SignalLog:
    """An append-only list of signals plus a wake-up for followers."""

    __slots__ = ("_closed", "_lot", "signals")

    def __init__(self) -> None:
        self.signals: list[Signal] = []
        # Made when a follower first waits: most runs have none, and append() is per signal.
        self._lot: trio.lowlevel.ParkingLot | None = None
        self._closed = False

    def append(self, signal: Signal) -> None:
        """Add ``signal`` (broker only) and wake followers."""
        self.signals.append(signal)
        lot = self._lot
        if lot is not None and lot:
            lot.unpark_all()

    def close(self) -> None:
        """No more signals will come; followers finish once they have read everything."""
        self._closed = True
        if self._lot is not None:
            self._lot.unpark_all()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self.signals)

    def __iter__(self) -> Iterator[Signal]:
        return iter(self.signals)

    def follow(self, pattern: PatternLike | Pattern | None = None, *, start: int = 0) -> LogCursor:
        """A cursor over the signals from index ``start`` on, filtered by ``pattern``."""
        return LogCursor(self, None if pattern is None else compile_pattern(pattern), start)

    async def wait_beyond(self, index: int) -> None:
        """Return once the log holds more than ``index`` signals or is closed."""
        while len(self.signals) <= index and not self._closed:
            if self._lot is None:
                self._lot = trio.lowlevel.ParkingLot()
            await self._lot.park()


class LogCursor:
    """Async iterator over a :class:`SignalLog`; it ends after the log closes.

    Each step is a checkpoint. ``position`` is the index of the next signal to read.
    """

    __slots__ = ("_log", "_pattern", "position")

    def __init__(self, log: SignalLog, pattern: Pattern | None, start: int) -> None:
        self._log = log
        self._pattern = pattern
        self.position = start

    def __aiter__(self) -> LogCursor:
        return self

    async def __anext__(self) -> Signal:
        await trio.lowlevel.checkpoint()
        signals = self._log.signals
        while True:
            while self.position < len(signals):
                signal = signals[self.position]
                self.position += 1
                if self._pattern is None or self._pattern.matches(signal.name):
                    return signal
            if self._log.closed:
                raise StopAsyncIteration
            await self._log.wait_beyond(self.position)

    def read_available(self) -> list[Signal]:
        """Everything already logged past the cursor (no waiting); advances the cursor."""
        signals = self._log.signals[self.position :]
        self.position += len(signals)
        if self._pattern is None:
            return signals
        return [s for s in signals if self._pattern.matches(s.name)]
