"""Per-agent retry policy: how often, how long to wait, which errors.

The policy only computes; the agent actor applies it. Waits use trio's clock, so tests run
them under ``MockClock`` in no real time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Literal

import attrs

from .._errors import HarnessError

__all__ = ["ON_ERROR_CHOICES", "RestartPolicy", "RetryPolicy"]


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


ON_ERROR_CHOICES = ("fail", "skip", "emit")
"""What an agent may do when an activation fails for good (``on_error``)."""


@attrs.frozen
class RestartPolicy:
    """Restart crashed agents instead of failing the run: ``one_for_one`` restarts the
    crashed agent, ``one_for_all`` every agent; more than ``max_restarts`` restarts within
    ``period`` seconds (trio's clock; a replay follows the recorded decision) and the run fails with :class:`RestartIntensityError`."""

    strategy: Literal["one_for_one", "one_for_all"] = attrs.field(
        default="one_for_one", validator=attrs.validators.in_(("one_for_one", "one_for_all"))
    )
    max_restarts: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    period: float = attrs.field(default=5.0, validator=attrs.validators.gt(0))
