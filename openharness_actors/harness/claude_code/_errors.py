"""Claude Code failures as :class:`HarnessError`: one table for the SDK's exceptions, one rule
for error results.

The CLI retries API failures itself (429, 5xx, overload, connection errors, with its own
backoff), so what reaches the harness is final: an error ``ResultMessage`` (its HTTP status,
if the API answered with one, gives ``code``; otherwise its subtype, such as
``"error_max_turns"``) or an SDK exception (a missing CLI, a process that died, a broken
protocol line). Exceptions are recognised by class name, so this module needs no import of
the SDK. Every message names the agent, never carries an API key, and chains the cause.
"""

from __future__ import annotations

from collections.abc import Callable

from ..._errors import HarnessError
from ._events import Outcome

__all__ = ["error_for_exception", "error_for_outcome"]

_EXCEPTIONS: tuple[tuple[str, str, bool], ...] = (
    # SDK class name, code, retryable; the first class in the exception's MRO wins
    ("CLINotFoundError", "cli_not_found", False),
    ("ResultError", "claude_code_error", False),
    ("CLIJSONDecodeError", "cli_protocol_error", False),
    ("MessageParseError", "cli_protocol_error", False),
    ("ProcessError", "cli_process_error", True),
    ("CLIConnectionError", "cli_connection_error", True),
    ("ClaudeSDKError", "claude_code_error", False),
)
_RETRYABLE_STATUS = frozenset({408, 409, 429})
_RETRYABLE_ASSISTANT_ERRORS = frozenset({"rate_limit", "server_error"})


def error_for_exception(
    agent: str, exc: BaseException, redact: Callable[[str], str]
) -> HarnessError | None:
    """The :class:`HarnessError` for an SDK exception, ``None`` for any other exception."""
    names = [cls.__name__ for cls in type(exc).__mro__ if cls.__module__.startswith("claude")]
    for name, code, retryable in _EXCEPTIONS:
        if name not in names:
            continue
        status = getattr(exc, "api_error_status", None)
        if isinstance(status, int):
            code, retryable = str(status), _status_retryable(status)
        error = HarnessError(
            f"agent {agent!r}: Claude Code failed: {redact(str(exc) or type(exc).__name__)}",
            agent=agent,
            code=code,
            retryable=retryable,
            status_code=status if isinstance(status, int) else None,
        )
        error.__cause__ = exc
        return error
    return None


def error_for_outcome(agent: str, outcome: Outcome, redact: Callable[[str], str]) -> HarnessError:
    """The :class:`HarnessError` for an error result."""
    status = outcome.api_error_status
    if status is not None:
        code, retryable = str(status), _status_retryable(status)
    elif outcome.assistant_error is not None and outcome.subtype == "success":
        code = outcome.assistant_error
        retryable = outcome.assistant_error in _RETRYABLE_ASSISTANT_ERRORS
    else:
        code, retryable = outcome.subtype, False
    detail = outcome.text or "; ".join(outcome.errors) or outcome.subtype
    return HarnessError(
        f"agent {agent!r}: Claude Code call failed ({code}): {redact(detail)}",
        agent=agent,
        code=code,
        retryable=retryable,
        status_code=status,
    )


def _status_retryable(status: int) -> bool:
    return status in _RETRYABLE_STATUS or status >= 500
