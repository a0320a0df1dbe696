"""Exact quiescence detection: a count of outstanding work, no sleeping or polling.

A unit of work is a published signal not yet fully routed, a delivery to an agent whose
activation (or skip) has not finished, or a delivery to the state actor not yet applied. Every
unit is added before the unit that caused it is released, so the count reaches zero exactly
when nothing is left to do. All access is from one trio thread, so no lock is needed.
"""

from __future__ import annotations

import trio

__all__ = ["WorkCounter"]


class WorkCounter:
    """Counts outstanding work; :attr:`idle` is set when it drops to zero."""

    __slots__ = ("idle", "pending")

    def __init__(self) -> None:
        self.pending = 0
        self.idle = trio.Event()

    def add(self) -> None:
        self.pending += 1

    def done(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.idle.set()
