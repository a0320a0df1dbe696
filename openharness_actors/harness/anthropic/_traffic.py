"""The limits one Anthropic harness object puts on its traffic, shared by every run and
activation using it: at most ``max_concurrency`` requests at once, and token buckets for
requests and tokens per minute (tokens estimated before a request, corrected with the
reported usage after it); plus the permit of a shared :class:`CallLimiter` held for the
request. It only admits and accounts; it never sends a request, reads a reply or retries.
A copy made by pickling gets fresh limits (see :meth:`TrafficLimits.config`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

from .._token_bucket import RateLimiter
from ..limits import CallLimiter, limited_call
from ._request import _estimate_tokens


class TrafficLimits:
    """The concurrency slots and the rate buckets of one harness object."""

    __slots__ = ("max_concurrency", "rpm", "slots", "tpm")

    def __init__(
        self,
        max_concurrency: int | None,
        requests_per_minute: float | None,
        tokens_per_minute: float | None,
    ) -> None:
        self.max_concurrency = max_concurrency
        self.slots = trio.CapacityLimiter(max_concurrency) if max_concurrency is not None else None
        self.rpm = RateLimiter(requests_per_minute) if requests_per_minute is not None else None
        self.tpm = RateLimiter(tokens_per_minute) if tokens_per_minute is not None else None

    def config(self) -> tuple[int | None, float | None, float | None]:
        """The arguments that make fresh limits like these (for pickling)."""
        return (
            self.max_concurrency,
            None if self.rpm is None else self.rpm.per_minute,
            None if self.tpm is None else self.tpm.per_minute,
        )

    @asynccontextmanager
    async def admitted(
        self, params: dict[str, Any], shared: CallLimiter | None, used: Callable[[], int]
    ) -> AsyncIterator[None]:
        """Hold one request's admission: a request from the per-minute bucket, the estimated
        tokens of ``params`` from the token bucket, and a permit of ``shared`` (if any).

        On the way out, however the block ends, the token bucket is charged or refunded the
        difference between the estimate and ``used()`` (the tokens the reply reported), and
        the shared permit is told the same count.
        """
        if self.rpm is not None:
            await self.rpm.acquire()
        estimate = _estimate_tokens(params) if self.tpm is not None else 0
        if self.tpm is not None:
            await self.tpm.acquire(estimate)
        if shared is not None and not estimate:
            estimate = _estimate_tokens(params)
        try:
            async with limited_call(shared, estimate) as call:
                try:
                    yield
                finally:
                    call.used_tokens = used()
        finally:
            if self.tpm is not None:
                spent = used()
                if spent >= estimate:
                    self.tpm.charge(spent - estimate)
                else:
                    self.tpm.refund(estimate - spent)
