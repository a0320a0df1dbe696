"""Names a package exports without importing their module until first use.

Used so that ``import openharness_actors`` does not import the ``anthropic`` SDK (nor the fake
server's HTTP stack, nor ``claude_agent_sdk``) until a program touches ``AnthropicHarness``,
``ClaudeCodeHarness`` or the fake server.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._public import publish

__all__ = ["lazy_exports", "lazy_exports_from"]


def lazy_exports(
    package: str,
    namespace: dict[str, Any],
    module: str,
    names: Iterable[str],
    *,
    also: Mapping[str, Iterable[str]] | None = None,
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package`` whose ``names`` live in ``module`` (relative
    to ``package``); a name is imported on first access and then cached in ``namespace``."""
    return lazy_exports_from(package, namespace, {module: names})


def lazy_exports_from(
    package: str, namespace: dict[str, Any], modules: Mapping[str, Iterable[str]]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """:func:`lazy_exports` for names from several ``modules`` (module -> names)."""
    home = {name: module for module, names in modules.items() for name in names}

    def getattr_(name: str) -> object:
        module = home.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module, package), name)
            namespace[name] = value
            publish({name: value}, [name], package)  # its public home (see _public)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def dir_() -> list[str]:
        return sorted({*namespace, *home})

    return getattr_, dir_
