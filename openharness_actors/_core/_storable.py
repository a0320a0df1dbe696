"""Refusing signal payloads a recording cannot store, when they are published.

A recorded (or journaled) run writes every payload as UTF-8 JSON. Some Python values pass
through a live run but cannot be written that way: a string with a lone surrogate (not
encodable as UTF-8), an int longer than Python's int-to-string limit (4,300 digits by
default), and any object that is not JSON data (a custom harness event's payload, say). Found
by the writer, such a value would lose the recording after the run "succeeded"; so
:func:`check_storable` walks a payload when it is published and raises
:class:`UnstorableValueError` naming the signal, the agent and the key path at fault.

The broker calls it only when a recorder asked for it (``Broker.check``), so live runs do not
pay for the walk. This module owns the check and nothing else; it must not import engine
modules.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .._errors import UnstorableValueError
from .._json import to_jsonable

__all__ = ["check_storable", "refused_change", "unstorable_reason"]

_BITS_SAFE = 14_000
"""Ints of fewer bits are safely below the default 4,300-digit limit (14,000 bits is ~4,215
decimal digits); longer ones are converted to find out."""


def check_storable(name: str, payload: dict[str, Any], agent: str | None) -> None:
    """Raise :class:`UnstorableValueError` when ``payload`` (of signal ``name``, published
    for ``agent``) holds a value a recording cannot store; return ``None`` otherwise."""
    if _storable(payload):
        return
    found = unstorable_reason(payload)
    if found is None:  # only a subclass the quick walk does not follow: store it as its base
        return
    path, reason = found
    who = f"agent {agent!r}" if agent is not None else "the engine"
    raise UnstorableValueError(
        f"signal {name!r} published by {who} cannot be recorded: payload key {path} {reason}",
        agent=agent,
        signal=name,
        key=path,
    )


def refused_change(
    check: Callable[[str, dict[str, Any], str | None], None],
    key: str,
    value: Any,
    agent: str | None,
) -> UnstorableValueError | None:
    """What ``check`` (the broker's, set in recorded runs) says about setting state ``key``
    to ``value``: the state actor asks *before* it changes the state, so a refused value never
    reaches the state (nor ``workflow:end``)."""
    try:
        check(f"state:{key}:changed", {"new_value": to_jsonable(value)}, agent)
    except UnstorableValueError as error:
        return error
    except TypeError:
        return None  # no JSON form at all: the state actor reports that as it always has
    return None


def _storable(value: Any) -> bool:
    """The quick walk (no key paths: this one runs for every published signal of a recorded
    run); ``False`` sends the caller to :func:`unstorable_reason` for the details."""
    stack = [value]
    pop = stack.pop
    extend = stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if not item.isascii() and _string_problem(item) is not None:
                return False
        elif kind is dict:
            for key in item:
                if type(key) is not str or (not key.isascii() and _string_problem(key)):
                    return False
            extend(item.values())
        elif kind is list or kind is tuple:
            extend(item)
        elif kind is int:
            if item.bit_length() > _BITS_SAFE and not _int_writable(item):
                return False
        elif not (item is None or kind is float or kind is bool):
            return False
    return True


def unstorable_reason(value: Any) -> tuple[str, str] | None:
    """The first unstorable value in ``value`` as ``(key path, reason)``, or ``None``.

    Iterative (a deeply nested value cannot exhaust the stack here); dict keys must be
    strings; lists and tuples are walked; everything else must be a JSON scalar.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii():
                reason = _string_problem(item)
                if reason is not None:
                    return _shown(path), reason
        elif kind is dict:
            for key, child in item.items():
                if type(key) is not str:
                    return _shown(
                        path
                    ), f"has a {type(key).__name__} key {key!r} (JSON keys are strings)"
                problem = None if key.isascii() else _string_problem(key)
                if problem is not None:
                    return _shown(path), f"has a key that {problem}"
                stack.append((f"{path}[{key!r}]", child))
        elif kind is list or kind is tuple:
            for index, child in enumerate(item):
                stack.append((f"{path}[{index}]", child))
        elif kind is int:
            if item.bit_length() > _BITS_SAFE and not _int_writable(item):
                limit = sys.get_int_max_str_digits()
                return _shown(path), (
                    f"holds an int of more than {limit} digits (Python's int-to-string limit; "
                    "store it as a string)"
                )
        elif item is None or kind is float or kind is bool:
            continue
        elif isinstance(item, str | int | float | dict | list | tuple):
            # Subclasses (str enums, IntEnum, ...) serialize as their base type: check that.
            stack.append((path, _as_base(item)))
        else:
            return _shown(path), (
                f"holds a {type(item).__name__} value {_short(item)}, which is not JSON data"
            )
    return None


def _as_base(item: Any) -> Any:
    """A str/int/float/dict/list/tuple subclass instance as its base type (how it is
    encoded)."""
    if isinstance(item, str):
        return str.__str__(item)
    if isinstance(item, int):
        return int(item)
    if isinstance(item, float):
        return float(item)
    if isinstance(item, dict):
        return dict(item)
    return list(item)


def _shown(path: str) -> str:
    return path or "(the payload itself)"


def _string_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"holds a string with a lone surrogate {text[exc.start : exc.end]!r} at index "
            f"{exc.start} (not encodable as UTF-8)"
        )
    return None


def _int_writable(value: int) -> bool:
    try:
        str(value)
    except ValueError:
        return False
    return True


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real problem
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:80] + "…"
