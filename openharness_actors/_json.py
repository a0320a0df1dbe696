"""The one cattrs converter, and conversion of values to JSON-compatible data.

Signal payloads, recordings and structured outputs all go through :data:`converter`, so a
value converts the same way everywhere. This module must not import any engine module.
"""

from __future__ import annotations

import json
from typing import Any

import cattrs.preconf.json

__all__ = ["converter", "dumps", "loads", "to_jsonable"]

converter: cattrs.Converter = cattrs.preconf.json.make_converter()
"""The shared converter (cattrs' JSON preset: tuples and sets become lists, and so on)."""

_SCALARS = (str, int, float, bool, type(None))


def to_jsonable(value: Any) -> Any:
    """Return ``value`` as JSON-compatible data (dicts with str keys, lists, scalars).

    attrs classes and dataclasses become dicts, tuples and sets become lists. Raises
    ``TypeError`` when a value has no JSON form.
    """
    if isinstance(value, _SCALARS):
        return value
    data = converter.unstructure(value)
    _check_jsonable(data)
    return data


def _check_jsonable(data: Any) -> None:
    if isinstance(data, _SCALARS):
        return
    if isinstance(data, dict):
        for key, item in data.items():
            if not isinstance(key, str):
                raise TypeError(f"dict key {key!r} is not a string")
            _check_jsonable(item)
        return
    if isinstance(data, list):
        for item in data:
            _check_jsonable(item)
        return
    raise TypeError(f"{type(data).__name__} value {data!r} has no JSON form")


def dumps(data: Any) -> str:
    """Compact JSON with stable key order (``sort_keys``), non-ASCII kept as is."""
    return json.dumps(data, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    """Parse JSON text."""
    return json.loads(text)
