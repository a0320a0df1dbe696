"""Per-agent retry policy: how often, how long to wait, which errors.

The policy only computes; the agent actor applies it. Waits use trio's clock, so tests run
them under ``MockClock`` in no real time.
"""

from __future__ import annotations

import errno
import random
import socket
from collections.abc import Callable
from typing import Literal

import attrs
import trio

from .._errors import HarnessError, OpenHarnessError

__all__ = ["ON_ERROR_CHOICES", "RestartPolicy", "RetryPolicy", "default_retry_on"]

_RETRYABLE_STATUS = frozenset({408, 409, 429})
_NETWORK_ERRNOS = frozenset(
    getattr(errno, name)
    for name in (
        "ECONNABORTED",
        "ECONNREFUSED",
        "ECONNRESET",
        "EHOSTDOWN",
        "EHOSTUNREACH",
        "ENETDOWN",
        "ENETRESET",
        "ENETUNREACH",
        "ENOTCONN",
        "EPIPE",
        "ESHUTDOWN",
        "ETIMEDOUT",
    )
    if hasattr(errno, name)
)
_TRANSPORT_NAMES = frozenset({"TransportError", "NetworkError", "TimeoutException"})
_CAUSE_DEPTH = 8


def default_retry_on(error: BaseException) -> bool:
    """Whether ``error`` is transient, the default of :attr:`RetryPolicy.retry_on`.

    Transient: a :class:`HarnessError` marked ``retryable``, or one whose ``status_code`` is
    408, 409, 429 or 5xx; a connection error (``ConnectionError``, an ``OSError`` with a network
    errno, a temporary DNS failure, ``trio.BrokenResourceError``, an httpx/httpcore transport
    error); a timeout (``TimeoutError``, the agent's ``timeout`` included); an exception with
    an HTTP 5xx ``status_code`` (or ``response.status_code``). The error and its chain of
    ``__cause__`` are looked at, so a body or a harness raising ``ConnectionError`` is retried
    although the engine wraps it in a library error. Anything else — programming errors
    (``TypeError``, ``KeyError``, ...), other ``OSError`` such as ``FileNotFoundError``, bad
    replies, replay divergences — is not retried.
    """
    current: BaseException | None = error
    for _ in range(_CAUSE_DEPTH):
        if current is None:
            return False
        if isinstance(current, HarnessError):
            if current.retryable:
                return True
            if current.status_code is not None:
                return _status_is_transient(current.status_code)
        elif isinstance(current, TimeoutError) or (  # TimeoutError: ActivationTimeoutError too
            not isinstance(current, OpenHarnessError) and _is_transient(current)
        ):
            return True
        current = current.__cause__
    return False


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | trio.BrokenResourceError):
        return True
    if isinstance(exc, socket.gaierror):
        return exc.errno == socket.EAI_AGAIN
    if isinstance(exc, OSError):
        return exc.errno in _NETWORK_ERRNOS
    if any(
        cls.__name__ in _TRANSPORT_NAMES and cls.__module__.startswith(("httpx", "httpcore"))
        for cls in type(exc).__mro__
    ):
        return True
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return isinstance(status, int) and status >= 500


def _status_is_transient(status: int) -> bool:
    return status in _RETRYABLE_STATUS or 500 <= status < 600


@attrs.frozen
class RetryPolicy:
    """Retry a failed activation up to ``attempts`` times in all (1 = no retry).

    The wait before attempt ``n+1`` is ``min(max_delay, initial_delay * multiplier**(n-1))``,
    spread by ``± jitter`` (a fraction; 0 gives exact waits). ``retry_on`` decides which errors
    are worth retrying (default :func:`default_retry_on`: connection errors, timeouts, HTTP
    408/409/429/5xx and harness errors marked ``retryable``, never programming errors).
    ``max_elapsed`` (seconds since the first attempt) stops retrying early.
    """

    attempts: int = attrs.field(default=3, validator=attrs.validators.ge(1))
    initial_delay: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    max_delay: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    jitter: float = attrs.field(
        default=0.1, validator=[attrs.validators.ge(0), attrs.validators.le(1)]
    )
    retry_on: Callable[[BaseException], bool] = default_retry_on
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
