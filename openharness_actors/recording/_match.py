"""Partial payload matching, shared by the player's searches and the test kit's assertions.

``expected`` matches ``actual`` when every key of ``expected`` is in ``actual`` with a matching
value: nested mappings match partially (recursively), a callable is a predicate called with
the actual value, anything else must be equal. This module imports nothing of the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["payload_matches"]


def payload_matches(expected: Mapping[str, Any] | None, actual: Any) -> bool:
    """Whether ``actual`` (a payload) has everything ``expected`` asks for."""
    if expected is None:
        return True
    if not isinstance(actual, Mapping):
        return False
    for key, want in expected.items():
        if key not in actual:
            return False
        if not _value_matches(want, actual[key]):
            return False
    return True


def _value_matches(want: Any, got: Any) -> bool:
    if isinstance(want, Mapping):
        return payload_matches(want, got)
    if callable(want) and not isinstance(want, type):
        try:
            return bool(want(got))
        except Exception:
            return False
    try:
        return bool(want == got)
    except Exception:
        return False
