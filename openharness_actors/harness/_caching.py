"""Prompt-caching breakpoints for Messages API requests (``AnthropicHarness(cache=True)``).

The API caches the prompt prefix that ends at a block marked ``cache_control``, in the order
tools, system, messages. Marking the last tool definition and the system prompt caches both
(the system prompt's mark covers the tools before it; the tools' mark still pays off when the
system prompt varies). The messages (the per-case prompt) are left uncached. This module only
rewrites request parameters; it sends nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EPHEMERAL", "with_cache_control"]

EPHEMERAL: dict[str, str] = {"type": "ephemeral"}
"""The ``cache_control`` value of the default (5-minute) cache."""


def with_cache_control(params: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``params`` whose system prompt (as a text block) and last tool definition
    carry ``cache_control``; the rest is shared, not copied."""
    marked = dict(params)
    system = params.get("system")
    if isinstance(system, str) and system:
        marked["system"] = [{"type": "text", "text": system, "cache_control": EPHEMERAL}]
    tools = params.get("tools")
    if tools:
        marked["tools"] = [*tools[:-1], {**tools[-1], "cache_control": EPHEMERAL}]
    return marked
