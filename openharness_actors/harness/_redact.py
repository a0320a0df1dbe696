"""Removing a secret from an exception and everything chained to it.

A server may echo the API key in an error message; the harness redacts its own messages, but
the SDK exception it chains as ``__cause__`` (and that exception's ``__context__`` and causes)
would still print the key in a traceback. :func:`redact_chain` rewrites, in place, the
``args``, ``message``, ``body`` and notes of every exception in the chain. It touches nothing
but exceptions, and never imports an SDK.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["REDACTED", "redact_chain"]

REDACTED = "[redacted]"

_MAX_CHAIN = 32
_TEXT_ATTRIBUTES = ("message", "body")


def redact_chain(error: BaseException | None, secret: str | None) -> None:
    """Replace ``secret`` by ``[redacted]`` in ``error`` and every exception chained to it
    (``__cause__``, ``__context__``, exception groups), in place."""
    if not secret or error is None:
        return
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_CHAIN:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        _redact_one(current, secret)
        for chained in (current.__cause__, current.__context__):
            if chained is not None:
                pending.append(chained)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)


def _redact_one(error: BaseException, secret: str) -> None:
    if any(_contains(arg, secret) for arg in error.args):
        error.args = tuple(_scrub(arg, secret) for arg in error.args)
    for name in _TEXT_ATTRIBUTES:
        value = getattr(error, name, None)
        if value is not None and _contains(value, secret):
            # A read-only property raises AttributeError: args already carry the text.
            with contextlib.suppress(AttributeError):
                setattr(error, name, _scrub(value, secret))
    notes = getattr(error, "__notes__", None)
    if isinstance(notes, list):
        error.__notes__ = [_scrub(note, secret) for note in notes]


def _contains(value: Any, secret: str) -> bool:
    if isinstance(value, str):
        return secret in value
    if isinstance(value, dict):
        return any(_contains(k, secret) or _contains(v, secret) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains(item, secret) for item in value)
    return False


def _scrub(value: Any, secret: str) -> Any:
    """``value`` with ``secret`` replaced in its strings (dicts, lists and tuples copied)."""
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, dict):
        return {_scrub(k, secret): _scrub(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(item, secret) for item in value]
    if isinstance(value, tuple):
        return tuple(_scrub(item, secret) for item in value)
    return value
