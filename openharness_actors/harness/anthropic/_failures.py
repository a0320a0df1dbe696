"""The exception map of the Anthropic harness: one failed attempt (:class:`_Failure`), the
SDK's, the stream's and the transport's exceptions mapped to it (:func:`failure_of`), which
HTTP statuses and error types are retried, and ``retry-after``. It does not call the API,
wait or decide whether to retry (the harness's :class:`RetryPolicy` does)."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any

import anthropic
import attrs

from ..._errors import HarnessError
from .._messages_stream import StreamErrorEvent

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


def failure_of(
    exc: Exception, *, request_id: str | None, redact: Callable[[str], str]
) -> _Failure | None:
    """The failed attempt ``exc`` (raised by a streaming Messages call) stands for, or
    ``None`` when it is not an API, stream or transport error (a bug: let it propagate).
    ``request_id`` is the response's, when its head had arrived; messages pass ``redact``."""
    if isinstance(exc, anthropic.APIStatusError):
        return status_failure(exc, redact)
    if isinstance(exc, anthropic.APITimeoutError):
        return _Failure("timeout", "the request timed out", True, cause=exc)
    if isinstance(exc, anthropic.APIConnectionError):
        return _Failure("connection_error", redact(str(exc)), True, cause=exc)
    if isinstance(exc, StreamErrorEvent):
        return _Failure(
            exc.error_type,
            redact(f"error event in the stream: {exc}"),
            exc.error_type in _RETRYABLE_TYPES,
            request_id=request_id,
            cause=exc,
        )
    if isinstance(exc, anthropic.AnthropicError):
        return _Failure("anthropic_error", redact(repr(exc)), False, cause=exc)
    kind = _transport_error_kind(exc)
    if kind is None:
        return None
    return _Failure(
        kind, redact(f"{type(exc).__name__}: {exc}"), True, request_id=request_id, cause=exc
    )


def status_failure(exc: anthropic.APIStatusError, redact: Callable[[str], str]) -> _Failure:
    """An HTTP error status as a failed attempt: the status decides whether it is retried
    (408, 409, 429 and 5xx), not the body's error type; ``retry-after`` is read."""
    status = exc.status_code
    body = exc.body.get("error") if isinstance(exc.body, dict) else None
    error = body if isinstance(body, dict) else {}
    error_type = str(error["type"]) if error.get("type") else None
    detail = str(error.get("message") or exc.message)
    return _Failure(
        code=str(status),
        message=redact(f"HTTP {status} {error_type or ''}: {detail}".replace("  ", " ")),
        # The status decides, not the body's type: a 4xx saying "api_error" is final.
        retryable=status in _RETRYABLE_STATUS or status >= 500,
        status_code=status,
        request_id=exc.request_id,
        retry_after=_retry_after(exc.response.headers),
        cause=exc,
    )
