"""Public names show where users import them from: ``__module__`` of exported classes and
functions is rewritten to the public package (as trio does), so reprs, tracebacks, pickles
and documentation say ``openharness_actors.Signal``, not a private module.

String annotations of attrs classes are resolved first (they are looked up in the module
named by ``__module__``); a name exported at the package root keeps the root as its home
even when a subpackage exports it too.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["publish"]

ROOT = "openharness_actors"


def publish(namespace: Mapping[str, Any], names: Iterable[str], module: str) -> None:
    """Give every class and function in ``names`` (found in ``namespace``) ``module`` as its
    ``__module__``, unless a name is exported at the root and ``module`` is not the root."""
    root = sys.modules.get(ROOT)
    rooted = set(getattr(root, "__all__", ())) if module != ROOT and root is not None else set()
    for name in names:
        value = namespace.get(name)
        if value is None or name in rooted:
            continue
        home(value, module)


def home(value: Any, module: str) -> None:
    """Rewrite one object's ``__module__`` to ``module`` (classes and functions of this
    package only)."""
    if not isinstance(value, type | types.FunctionType):
        return
    current = getattr(value, "__module__", "")
    if not current.startswith(ROOT) or current == module:
        return
    if isinstance(value, type) and attrs.has(value):
        try:
            attrs.resolve_types(value)
        except NameError:
            return  # leave it where its annotations can be resolved
    value.__module__ = module
