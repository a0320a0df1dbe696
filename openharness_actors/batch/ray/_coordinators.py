"""The small coordinators of a Ray batch, run as Ray actors.

:class:`CaseLedger` is where a case of one batch *completes*: a worker commits each finished case's
result, and the first commit of a case wins. When the driver loses a worker it *fences* the
cases that worker held: the ledger says which of them had committed (those are kept and never
run again) and refuses any later commit of the others from the lost attempt, so a case whose
worker died before reporting is run again elsewhere and still completes exactly once. The
driver streams committed results out with :meth:`CaseLedger.drain`. :class:`LedgerHost` is
the actor: it holds one ledger per open batch, so that a pool of warm workers keeps one
ledger process across batches; a commit for a batch that was closed is refused.

:class:`ClusterCallLimiter` applies :class:`CallLimits` to the calls of every worker at once
(a cluster-wide :class:`CallLimiter`, through :class:`RemoteCallLimiter`); the permits of a
lost worker are given back with :meth:`ClusterCallLimiter.release_holder`.

Both are Ray *async actors*: Ray runs their ``async def`` methods on an asyncio loop inside
the actor process, which is how a Ray actor waits without holding a thread per waiter. That
asyncio loop is Ray's; drivers and workers stay on trio. This module does not import ``ray``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Sequence
from typing import Any

import attrs

from ...harness.limits import CallLimits, CallPermit, LimitBudget, LimiterStatistics
from ._bridge import await_ref

__all__ = [
    "CaseLedger",
    "ClusterCallLimiter",
    "Commit",
    "LedgerHost",
    "LedgerStatistics",
    "RemoteCallLimiter",
]


@attrs.frozen
class Commit:
    """A finished case, as a worker reports it. ``key`` is the case's index in the batch;
    ``outcome`` a ``CaseResult`` or, for the probe case of an invalid workflow,
    ``("definition", message, agent, problems)``."""

    key: int
    attempt: int
    worker: str
    outcome: Any


@attrs.frozen
class LedgerStatistics:
    """Commits accepted, commits refused (duplicate or fenced), cases fenced."""

    accepted: int
    refused: int
    fenced: int


class CaseLedger:
    """See the module docstring. Single-threaded: every method runs on the actor's loop."""

    def __init__(self) -> None:
        self._committed: set[int] = set()
        self._attempt: dict[int, int] = {}
        self._outbox: list[Commit] = []
        self._base = 0  # commits the driver acknowledged and that left the outbox
        self._arrived = asyncio.Event()
        self._accepted = self._refused = self._fenced = 0

    def commit(self, commits: Sequence[Commit]) -> list[bool]:
        """Accept each commit unless its case committed already or its attempt was fenced."""
        accepted = []
        for item in commits:
            ok = item.key not in self._committed and item.attempt >= self._attempt.get(item.key, 0)
            if ok:
                self._committed.add(item.key)
                self._outbox.append(item)
                self._accepted += 1
            else:
                self._refused += 1
            accepted.append(ok)
        self._arrived.set()
        return accepted

    def fence(self, attempts: Sequence[tuple[int, int]]) -> list[int]:
        """For cases ``(key, attempt)`` a lost worker held: return those that committed;
        refuse from now on any commit of the others at that attempt or earlier."""
        committed = []
        for key, attempt in attempts:
            if key in self._committed:
                committed.append(key)
            else:
                self._attempt[key] = max(self._attempt.get(key, 0), attempt + 1)
                self._fenced += 1
        return committed

    async def drain(self, received: int, wait: float) -> list[Commit]:
        """Commits after the first ``received`` (which the driver has: they are forgotten),
        waiting up to ``wait`` seconds for one when there are none."""
        if received > self._base:
            del self._outbox[: received - self._base]
            self._base = received
        if not self._outbox:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), wait)
        return list(self._outbox[received - self._base :])

    def statistics(self) -> LedgerStatistics:
        return LedgerStatistics(self._accepted, self._refused, self._fenced)


class LedgerHost:
    """A :class:`CaseLedger` per open batch (the actor a pool keeps); see the module docstring."""

    def __init__(self) -> None:
        self._ledgers: dict[str, CaseLedger] = {}

    def open(self, batch: str) -> None:
        self._ledgers[batch] = CaseLedger()

    def close(self, batch: str) -> LedgerStatistics | None:
        """Forget ``batch`` (later commits are refused); its final statistics."""
        ledger = self._ledgers.pop(batch, None)
        return None if ledger is None else ledger.statistics()

    def commit(self, batch: str, commits: Sequence[Commit]) -> list[bool]:
        ledger = self._ledgers.get(batch)
        return [False] * len(commits) if ledger is None else ledger.commit(commits)

    def fence(self, batch: str, attempts: Sequence[tuple[int, int]]) -> list[int]:
        return self._ledgers[batch].fence(attempts)

    async def drain(self, batch: str, received: int, wait: float) -> list[Commit]:
        return await self._ledgers[batch].drain(received, wait)


class ClusterCallLimiter:
    """:class:`CallLimits` for every worker of a cluster; see the module docstring."""

    def __init__(self, limits: CallLimits) -> None:
        self._budget = LimitBudget(limits, time.monotonic)
        self._turn = asyncio.Lock()  # fair: acquires are served in arrival order
        self._released = asyncio.Event()
        self._granted: dict[str, tuple[str, int]] = {}
        self._abandoned: set[str] = set()
        self._lost: set[str] = set()

    async def acquire(self, ticket: str, holder: str, tokens: int) -> bool:
        """Wait for a permit for ``ticket``; False if it was abandoned meanwhile."""
        async with self._turn:
            while (wait := self._budget.wait_needed(tokens)) != 0:
                released = self._released
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(released.wait(), wait)
            if ticket in self._abandoned or holder in self._lost:
                self._abandoned.discard(ticket)
                return False
            self._budget.take(tokens)
            self._granted[ticket] = (holder, tokens)
            return True

    def release(self, ticket: str, used_tokens: int | None) -> None:
        """Give a permit back (or abandon a ticket still waiting); idempotent."""
        granted = self._granted.pop(ticket, None)
        if granted is None:
            self._abandoned.add(ticket)
            return
        self._budget.give_back(granted[1], used_tokens)
        self._released.set()
        self._released = asyncio.Event()

    def release_holder(self, holder: str) -> int:
        """Give back every permit ``holder`` (a lost worker) held; returns how many."""
        self._lost.add(holder)
        tickets = [t for t, (h, _) in self._granted.items() if h == holder]
        for ticket in tickets:
            self.release(ticket, None)
        return len(tickets)

    def statistics(self) -> LimiterStatistics:
        return self._budget.statistics()


class RemoteCallLimiter:
    """The :class:`CallLimiter` a worker's harnesses consult: permits from a
    :class:`ClusterCallLimiter` actor (``handle``), in the name of worker ``holder``."""

    def __init__(self, handle: Any, holder: str) -> None:
        self._handle = handle
        self._holder = holder
        self._tickets = itertools.count()

    async def acquire(self, estimated_tokens: int = 0) -> CallPermit:
        ticket = f"{self._holder}:{next(self._tickets)}"
        try:
            await await_ref(self._handle.acquire.remote(ticket, self._holder, estimated_tokens))
        except BaseException:
            self._handle.release.remote(ticket, None)  # abandon: no slot leaks
            raise
        return _RemotePermit(self._handle, ticket)


@attrs.define
class _RemotePermit:
    _handle: Any
    _ticket: str
    _released: bool = False

    async def release(self, used_tokens: int | None = None) -> None:
        if not self._released:
            self._released = True
            await await_ref(self._handle.release.remote(self._ticket, used_tokens))
