"""Names a package exports without importing their module until first use.

Used so that ``import openharness_actors`` does not import the ``anthropic`` SDK (nor the fake
server's HTTP stack, nor ``claude_agent_sdk``) until a program touches ``AnthropicHarness``,
``ClaudeCodeHarness`` or the fake server.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str,
    namespace: dict[str, Any],
    module: str,
    names: Iterable[str],
    *,
    also: Mapping[str, Iterable[str]] | None = None,
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose ``names`` live in ``module`` (relative
    to ``package``), and whose names in ``also`` (module -> names) live in those modules; a
    name is imported on first access and then cached in ``namespace``."""
    home = dict.fromkeys(names, module)
    for other, its_names in (also or {}).items():
        home.update(dict.fromkeys(its_names, other))
    lazy = frozenset(home)

    def getattr_(name: str) -> object:
        if name in lazy:
            value = getattr(importlib.import_module(home[name], package), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted({*namespace, *lazy})

    return getattr_, dir_
