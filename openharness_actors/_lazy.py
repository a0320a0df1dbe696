"""Names a package exports without importing their module until first use.

Used so that ``import openharness_actors`` does not import the ``anthropic`` SDK (nor the fake
server's HTTP stack) until a program touches ``AnthropicHarness`` or the fake server.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], module: str, names: Iterable[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose ``names`` live in ``module`` (relative
    to ``package``); a name is imported on first access and then cached in ``namespace``."""
    lazy = frozenset(names)

    def getattr_(name: str) -> object:
        if name in lazy:
            value = getattr(importlib.import_module(module, package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted({*namespace, *lazy})

    return getattr_, dir_
