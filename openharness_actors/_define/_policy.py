"""Per-agent retry policy: how often, how long to wait, which errors.

The policy only computes; the agent actor applies it. Waits use trio's clock, so tests run
them under ``MockClock`` in no real time.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import attrs

from .._errors import HarnessError

__all__ = ["RetryPolicy"]


def _default_retryable(error: BaseException) -> bool:
    return isinstance(error, HarnessError) and error.retryable


@attrs.frozen
class RetryPolicy:
    """Retry a failed activation up to ``attempts`` times in all (1 = no retry).

    The wait before attempt ``n+1`` is ``min(max_delay, initial_delay * multiplier**(n-1))``,
    spread by ``± jitter`` (a fraction; 0 gives exact waits). ``retry_on`` decides which errors
    are worth retrying (default: a :class:`HarnessError` marked ``retryable``). ``max_elapsed``
    (seconds since the first attempt) stops retrying early.
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    initial_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    max_delay: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(
        default=0.1, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    retry_on: Callable[[BaseException], bool] = _default_retryable
    max_elapsed: float | None = None

    def delay(self, failed_attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after attempt number ``failed_attempt`` (1-based) failed."""
        base = min(self.max_delay, self.initial_delay * self.multiplier ** (failed_attempt - 1))
        if not self.jitter:
            return base
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return max(0.0, base * (1 + spread))

    def should_retry(self, error: BaseException, failed_attempt: int, elapsed: float) -> bool:
        """Whether to try again after ``failed_attempt`` failed with ``error``."""
        if failed_attempt >= self.attempts or not self.retry_on(error):
            return False
        return self.max_elapsed is None or elapsed < self.max_elapsed
