"""Rate limits for harnesses: a token bucket on trio's clock.

A harness keeps one bucket per limit (requests per minute, tokens per minute) and shares it
between every run and activation that uses the harness. Time is trio's clock, so a test can
drive a bucket with ``MockClock``. This module only counts and waits; it never calls a model.
"""

from __future__ import annotations

import attrs
import trio

__all__ = ["RateLimiter", "RateLimiterStatistics"]


@attrs.frozen
class RateLimiterStatistics:
    """A snapshot: ``available`` units now (negative while in debt), ``waiting`` tasks."""

    per_minute: float
    available: float
    waiting: int


class RateLimiter:
    """At most ``per_minute`` units per minute, refilled continuously.

    The bucket holds up to ``per_minute`` units and starts full, so a burst of a whole
    minute's budget goes through at once and later takers wait for the refill. Takers are
    served first come, first served. :meth:`charge` and :meth:`refund` correct an estimate
    after the fact; a charge may leave the bucket in debt, which later takers wait out.
    """

    def __init__(self, per_minute: float) -> None:
        if not per_minute > 0:
            raise ValueError(f"per_minute must be > 0, not {per_minute!r}")
        self.per_minute = float(per_minute)
        self._rate = self.per_minute / 60.0
        self._available = self.per_minute
        self._updated: float | None = None
        self._turn = trio.Lock()
        self._waiting = 0

    async def acquire(self, amount: float = 1.0) -> None:
        """Take ``amount`` units, waiting (in arrival order) until the bucket has them.

        An ``amount`` above the bucket's size takes the whole bucket. Cancelled while
        waiting, it takes nothing.
        """
        amount = min(float(amount), self.per_minute)
        self._waiting += 1
        try:
            async with self._turn:
                self._refill()
                while self._available < amount:
                    await trio.sleep((amount - self._available) / self._rate)
                    self._refill()
                self._available -= amount
        finally:
            self._waiting -= 1

    def charge(self, amount: float) -> None:
        """Take ``amount`` more units now, possibly going into debt."""
        self._refill()
        self._available -= amount

    def refund(self, amount: float) -> None:
        """Give back ``amount`` units (never above the bucket's size)."""
        self._refill()
        self._available = min(self.per_minute, self._available + amount)

    def statistics(self) -> RateLimiterStatistics:
        """The bucket's level and queue now."""
        self._refill()
        return RateLimiterStatistics(self.per_minute, self._available, self._waiting)

    def _refill(self) -> None:
        try:
            now = trio.current_time()
        except RuntimeError:  # outside trio.run: nothing elapsed that we can measure
            return
        if self._updated is not None and now > self._updated:
            self._available = min(
                self.per_minute, self._available + (now - self._updated) * self._rate
            )
        self._updated = now
