"""Call limits: a small protocol a harness consults before each model call.

A :class:`CallLimiter` grants a :class:`CallPermit` for one call once a concurrency slot, a
request and the call's estimated tokens are available (per-minute token buckets), and gets
the permit back with the tokens really used when the call ends, so the token budget follows
actual usage. Limiters wait in arrival order (FIFO).

:class:`LocalCallLimiter` enforces :class:`CallLimits` for one trio process; the Ray batch
runner has a cluster-wide peer behind the same protocol (one small Ray actor). A harness uses
its own limiter when it was given one, else the ambient one a batch runner installs with
:func:`using_call_limiter` (:func:`current_call_limiter`); :func:`limited_call` wraps a call.
:class:`LimitBudget` is the arithmetic every limiter shares; it neither waits nor sleeps.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

import attrs
import trio

__all__ = [
    "CallLimiter",
    "CallLimits",
    "CallPermit",
    "LimitBudget",
    "LimiterStatistics",
    "LocalCallLimiter",
    "current_call_limiter",
    "limited_call",
    "using_call_limiter",
]


def _positive_or_none(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{attribute.name} must be a positive number or None, not {value!r}")


@attrs.frozen
class CallLimits:
    """How many model calls may run at once, and how many requests and tokens per minute.

    ``None`` means unlimited. The token buckets hold a minute's worth and refill continuously.
    """

    concurrency: int | None = attrs.field(default=None, validator=_positive_or_none)
    requests_per_minute: float | None = attrs.field(default=None, validator=_positive_or_none)
    tokens_per_minute: float | None = attrs.field(default=None, validator=_positive_or_none)


@attrs.frozen
class LimiterStatistics:
    """A snapshot: calls holding a permit now, the most at once so far, permits granted."""

    in_use: int
    max_in_use: int
    granted: int


class CallPermit(Protocol):
    """Leave to make one call; give it back once, when the call ends."""

    async def release(self, used_tokens: int | None = None) -> None:
        """Return the slot; ``used_tokens`` (``None``: the estimate) settles the token budget."""
        ...


class CallLimiter(Protocol):
    """What a harness consults: ``await acquire(tokens)`` waits for leave to call."""

    async def acquire(self, estimated_tokens: int = 0) -> CallPermit:
        """Wait until a call estimated at ``estimated_tokens`` may start; cancellable."""
        ...


class LimitBudget:
    """Slots and request/token buckets of one :class:`CallLimits`, against ``clock()``."""

    def __init__(self, limits: CallLimits, clock: Callable[[], float]) -> None:
        self.limits = limits
        self._clock = clock
        self._at = clock()
        self._requests = float(limits.requests_per_minute or 0)
        self._tokens = float(limits.tokens_per_minute or 0)
        self.in_use = self.max_in_use = self.granted = 0

    def wait_needed(self, tokens: int) -> float | None:
        """0 if a call of ``tokens`` may start now, the seconds until the buckets allow it,
        or ``None`` while every slot is taken (wait for a release)."""
        limits = self.limits
        if limits.concurrency is not None and self.in_use >= limits.concurrency:
            return None
        self._refill()
        wait = 0.0
        if limits.requests_per_minute is not None and self._requests < 1:
            wait = (1 - self._requests) * 60 / limits.requests_per_minute
        if limits.tokens_per_minute is not None:
            wanted = min(float(tokens), limits.tokens_per_minute)
            if self._tokens < wanted:
                wait = max(wait, (wanted - self._tokens) * 60 / limits.tokens_per_minute)
        return wait

    def take(self, tokens: int) -> None:
        """Start a call (after ``wait_needed`` said 0)."""
        self._refill()
        self.in_use += 1
        self.max_in_use = max(self.max_in_use, self.in_use)
        self.granted += 1
        self._requests -= 1
        self._tokens -= tokens

    def give_back(self, estimated: int, used: int | None) -> None:
        """End a call: free its slot and settle its tokens (the bucket may go below zero)."""
        self._refill()
        self.in_use -= 1
        if used is not None:
            self._tokens -= used - estimated

    def statistics(self) -> LimiterStatistics:
        return LimiterStatistics(self.in_use, self.max_in_use, self.granted)

    def _refill(self) -> None:
        now = self._clock()
        elapsed, self._at = now - self._at, now
        limits = self.limits
        if limits.requests_per_minute is not None:
            rate = limits.requests_per_minute
            self._requests = min(rate, self._requests + elapsed * rate / 60)
        if limits.tokens_per_minute is not None:
            rate = limits.tokens_per_minute
            self._tokens = min(rate, self._tokens + elapsed * rate / 60)


class LocalCallLimiter:
    """A :class:`CallLimiter` for the calls of one trio process (one ``trio.run``)."""

    def __init__(self, limits: CallLimits) -> None:
        self._limits = limits
        self._budget: LimitBudget | None = None
        self._turn = trio.Lock()  # fair: callers are served in arrival order
        self._released = trio.Event()

    async def acquire(self, estimated_tokens: int = 0) -> CallPermit:
        if self._budget is None:
            self._budget = LimitBudget(self._limits, trio.current_time)
        budget = self._budget
        async with self._turn:
            while (wait := budget.wait_needed(estimated_tokens)) != 0:
                released = self._released
                with trio.move_on_after(math.inf if wait is None else wait):
                    await released.wait()
            budget.take(estimated_tokens)
        return _LocalPermit(self, budget, estimated_tokens)

    def statistics(self) -> LimiterStatistics:
        if self._budget is None:
            return LimiterStatistics(0, 0, 0)
        return self._budget.statistics()

    def _release(self, budget: LimitBudget, estimated: int, used: int | None) -> None:
        budget.give_back(estimated, used)
        self._released.set()
        self._released = trio.Event()


@attrs.define
class _LocalPermit:
    _limiter: LocalCallLimiter
    _budget: LimitBudget
    _estimated: int
    _released: bool = False

    async def release(self, used_tokens: int | None = None) -> None:
        if not self._released:
            self._released = True
            self._limiter._release(self._budget, self._estimated, used_tokens)


_current: ContextVar[CallLimiter | None] = ContextVar("openharness_call_limiter", default=None)


def current_call_limiter() -> CallLimiter | None:
    """The limiter a batch runner installed for the calls of this task, if any."""
    return _current.get()


@contextmanager
def using_call_limiter(limiter: CallLimiter | None) -> Iterator[None]:
    """Make ``limiter`` the ambient limiter of this task and the tasks it starts."""
    token = _current.set(limiter)
    try:
        yield
    finally:
        _current.reset(token)


@attrs.define
class LimitedCall:
    """Handed out by :func:`limited_call`: set ``used_tokens`` once the call's usage is known."""

    used_tokens: int | None = None


@asynccontextmanager
async def limited_call(
    limiter: CallLimiter | None, estimated_tokens: int = 0
) -> AsyncIterator[LimitedCall]:
    """Hold a permit of ``limiter`` (when not ``None``) for the body; the permit goes back
    when the body ends, however it ends (shielded from cancellation)."""
    call = LimitedCall()
    if limiter is None:
        yield call
        return
    permit = await limiter.acquire(estimated_tokens)
    try:
        yield call
    finally:
        with trio.CancelScope(shield=True):
            await permit.release(call.used_tokens)
