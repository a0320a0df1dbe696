"""The exception map of the Anthropic harness: one failed attempt (:class:`_Failure`), which
HTTP statuses and error types are retried, ``retry-after``, and transport errors. It does not
call the API."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import attrs

from ..._errors import HarnessError

_RETRYABLE_STATUS = frozenset({408, 409, 429})
_RETRYABLE_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error", "timeout_error"})


@attrs.frozen
class _Failure:
    """One failed attempt, before the retry decision."""

    code: str
    message: str
    retryable: bool
    status_code: int | None = None
    request_id: str | None = None
    retry_after: float | None = None
    cause: BaseException | None = None

    def error(self, agent: str, attempts: int) -> HarnessError:
        tried = f" (after {attempts} attempts)" if attempts > 1 else ""
        error = HarnessError(
            f"agent {agent!r}: Anthropic API call failed{tried}: {self.message}",
            agent=agent,
            code=self.code,
            retryable=self.retryable,
            status_code=self.status_code,
            request_id=self.request_id,
        )
        error.__cause__ = self.cause
        return error


def _retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or HTTP date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _transport_error_kind(exc: BaseException) -> str | None:
    """``"timeout"`` or ``"connection_error"`` for an HTTP transport error raised while the
    body streams (the SDK wraps those raised before the response head, not these). They come
    from the SDK's HTTP library (httpx or httpx2, depending on the SDK version), recognised by
    class name so that this module needs no import of it."""
    names = {
        cls.__name__
        for cls in type(exc).__mro__
        if cls.__module__.startswith(("httpx", "httpcore"))
    }
    if "TimeoutException" in names:
        return "timeout"
    if names & {"TransportError", "NetworkError", "ProtocolError", "StreamError"}:
        return "connection_error"
    return None
