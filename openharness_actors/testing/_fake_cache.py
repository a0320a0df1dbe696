"""Prompt-cache accounting for the fake Messages API (:mod:`.fake_anthropic`).

The real API caches the prompt prefix that ends at a block marked ``cache_control`` (in the
order tools, system, messages): the first request with that prefix pays a cache write
(``cache_creation_input_tokens``), later ones with the same model and prefix read it
(``cache_read_input_tokens``); the rest of the prompt is ``input_tokens``. This module
emulates that with the fake's four-characters-a-token estimate, keeps the cached prefixes in
memory, and never expires them (the real cache lives 5 minutes by default). It owns the
accounting only: it does not answer HTTP requests.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import attrs

from .._core._usage import Usage

__all__ = ["FakePromptCache", "cached_prefix"]


def cached_prefix(body: dict[str, Any]) -> str | None:
    """The JSON text of the prompt prefix up to the last ``cache_control`` breakpoint of a
    Messages request ``body`` (tools, then system, then messages), or ``None`` without one."""
    parts: list[Any] = []
    prefix: str | None = None

    def visit(block: Any) -> None:
        nonlocal prefix
        parts.append(block)
        if isinstance(block, dict) and block.get("cache_control"):
            prefix = json.dumps(parts, sort_keys=True)

    for tool in body.get("tools") or []:
        visit(tool)
    system = body.get("system")
    if isinstance(system, list):
        for block in system:
            visit(block)
    elif system:
        parts.append(system)
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for block in content:
                visit(block)
        else:
            parts.append(content)
    return prefix


class FakePromptCache:
    """The fake server's prompt cache: ``account`` turns an estimated usage into one with
    cache writes and reads. ``min_tokens`` is the shortest prefix that is cached (the real
    API's minimum is 1024 or more tokens depending on the model; the fake's default is 0)."""

    def __init__(self, *, min_tokens: int = 0) -> None:
        self.min_tokens = min_tokens
        self.writes = 0
        self.reads = 0
        self._prefixes: set[tuple[str, str]] = set()

    def account(self, body: dict[str, Any], usage: Usage) -> Usage:
        """``usage`` of a request without caching, split into cached and uncached input."""
        prefix = cached_prefix(body)
        if prefix is None:
            return usage
        tokens = max(1, math.ceil(len(prefix) / 4))
        if tokens < self.min_tokens:
            return usage
        key = (str(body.get("model")), hashlib.sha256(prefix.encode()).hexdigest())
        rest = max(1, usage.input_tokens - tokens)
        if key in self._prefixes:
            self.reads += 1
            return attrs.evolve(usage, input_tokens=rest, cache_read_input_tokens=tokens)
        self._prefixes.add(key)
        self.writes += 1
        return attrs.evolve(usage, input_tokens=rest, cache_creation_input_tokens=tokens)

    def clear(self) -> None:
        """Forget every cached prefix."""
        self._prefixes.clear()
