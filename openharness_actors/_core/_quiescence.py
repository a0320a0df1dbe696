"""Exact quiescence detection: a count of outstanding work, no sleeping or polling.

A unit of work is a published signal not yet fully routed, a delivery to an agent whose
activation (or skip) has not finished, or a delivery to the state actor not yet applied. Every
unit is added before the unit that caused it is released, so the count reaches zero exactly
when nothing is left to do. All access is from one trio thread, so no lock is needed.

When a run follows a recorded schedule (replay, resume), drafts the broker holds back for their
recorded turn are work too; ``floor`` is their number. Reaching the floor means every other
unit is done: nothing can produce the signal the schedule waits for, so the run is stuck (a
divergence), which the run detects exactly, in the same way as quiescence — as long as the
broker has nothing it could log (``stalled``): held drafts whose turn has come are not stuck.
"""

from __future__ import annotations

import trio

__all__ = ["WorkCounter"]


class WorkCounter:
    """Counts outstanding work; :attr:`idle` is set when it drops to :attr:`floor`."""

    __slots__ = ("floor", "idle", "pending", "stalled")

    def __init__(self) -> None:
        self.pending = 0
        self.floor = 0
        self.stalled = False
        self.idle = trio.Event()

    def add(self) -> None:
        self.pending += 1

    def done(self) -> None:
        self.pending -= 1
        if self.pending == self.floor and (self.pending == 0 or self.stalled):
            self.idle.set()

    def quiet(self) -> bool:
        """Whether the count is at its floor now (what sets :attr:`idle`)."""
        return self.pending == self.floor and (self.pending == 0 or self.stalled)

    def set_floor(self, floor: int) -> None:
        """Set how many units are held back (see the module docstring)."""
        self.floor = floor
        if self.pending == floor and (floor == 0 or self.stalled):
            self.idle.set()
