"""The one cattrs converter, and conversion of values to JSON-compatible data.

Signal payloads, recordings and structured outputs all go through :data:`converter`, so a
value converts the same way everywhere. This module must not import any engine module.
"""

from __future__ import annotations

import json
from typing import Any

import cattrs.preconf.json

__all__ = ["MAX_DEPTH", "converter", "dumps", "loads", "to_jsonable"]

converter: cattrs.Converter = cattrs.preconf.json.make_converter()
"""The shared converter (cattrs' JSON preset: tuples and sets become lists, and so on)."""

_SCALARS = (str, int, float, bool, type(None))

MAX_DEPTH = 100
"""How deeply a value may nest (containers inside containers) to enter a signal or the state.

Deeper values are refused with a ``TypeError`` where they enter, instead of exhausting the
interpreter's recursion limit later in whichever converter, writer or reader meets them first.
"""


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as JSON-compatible data (dicts with str keys, lists, scalars).

    attrs classes and dataclasses become dicts, tuples and sets become lists. Raises
    ``TypeError`` when a value has no JSON form, or nests deeper than :data:`MAX_DEPTH`.
    """
    if isinstance(value, _SCALARS):
        return value
    try:
        data = converter.unstructure(value)
    except RecursionError:
        raise TypeError(
            f"value nested too deeply (more than {MAX_DEPTH} levels) to have a JSON form"
        ) from None
    _check_jsonable(data)
    return data


def _check_jsonable(data: Any) -> None:
    """Iterative (a deep value must not exhaust the recursion limit here)."""
    pending: list[tuple[Any, int]] = [(data, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, _SCALARS):
            continue
        if depth >= MAX_DEPTH:
            raise TypeError(f"value nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str):
                    raise TypeError(f"dict key {key!r} is not a string")
                pending.append((child, depth + 1))
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)
        else:
            raise TypeError(f"{type(item).__name__} value {_short(item)} has no JSON form")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "…"


def dumps(data: Any) -> str:
    """Compact JSON with stable key order (``sort_keys``), non-ASCII kept as is."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    """Parse JSON text."""
    return json.loads(text)
