"""The one signal-pattern dialect, used by agents, reducers, subscriptions, stores and tests.

* an exact name matches itself;
* ``*`` matches one segment, or part of one: any run of characters without ``:`` (may be
  empty) — ``state:*:changed`` matches ``state:result:changed`` but not ``state:a:b:changed``;
* ``**`` matches anything, ``:`` included — ``harness:**`` matches ``harness:start``;
* a compiled :class:`re.Pattern` matches when it matches the *whole* name (``fullmatch``).

Patterns are compiled once (:func:`compile_pattern`, cached) and then only matched.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import attrs

from .._errors import WorkflowDefinitionError

__all__ = ["Pattern", "PatternLike", "compile_pattern", "compile_patterns", "matches"]

PatternLike = str | re.Pattern[str]

_SEGMENT_CHARS = re.compile(r"[A-Za-z0-9_.\-*]+")


@attrs.frozen(slots=True)
class Pattern:
    """A compiled pattern. ``exact`` is the name when the pattern has no wildcard."""

    source: str
    exact: str | None
    regex: re.Pattern[str] | None
    kind: str = "glob"
    """``"exact"``, ``"glob"`` or ``"regex"``."""

    def matches(self, name: str) -> bool:
        """Whether the signal ``name`` matches."""
        if self.exact is not None:
            return name == self.exact
        assert self.regex is not None
        return self.regex.fullmatch(name) is not None

    def __str__(self) -> str:
        return self.source


def compile_pattern(pattern: PatternLike | Pattern) -> Pattern:
    """Compile ``pattern``; raises :class:`WorkflowDefinitionError` naming a bad pattern."""
    if isinstance(pattern, Pattern):
        return pattern
    if isinstance(pattern, re.Pattern):
        return Pattern(source=pattern.pattern, exact=None, regex=pattern, kind="regex")
    if not isinstance(pattern, str):
        raise WorkflowDefinitionError(
            f"a signal pattern must be a str or a compiled re.Pattern, not {type(pattern).__name__}"
        )
    return _compile_glob(pattern)


@functools.lru_cache(maxsize=4096)
def _compile_glob(pattern: str) -> Pattern:
    problem = _glob_problem(pattern)
    if problem is not None:
        raise WorkflowDefinitionError(f"invalid signal pattern {pattern!r}: {problem}")
    if "*" not in pattern:
        return Pattern(source=pattern, exact=pattern, regex=None, kind="exact")
    parts: list[str] = []
    for token in re.split(r"(\*\*|\*)", pattern):
        if token == "**":
            parts.append(".*")
        elif token == "*":
            parts.append("[^:]*")
        elif token:
            parts.append(re.escape(token))
    return Pattern(source=pattern, exact=None, regex=re.compile("".join(parts)))


def _glob_problem(pattern: str) -> str | None:
    if not pattern:
        return "it is empty"
    if "***" in pattern:
        return "'***' is not a wildcard (use '*' for one segment, '**' for anything)"
    for segment in pattern.split(":"):
        if not segment:
            return "it has an empty segment (two ':' in a row, or one at an end)"
        if not _SEGMENT_CHARS.fullmatch(segment):
            return (
                f"segment {segment!r} has characters outside letters, digits, '_', '.', '-' "
                "and the wildcards '*' and '**'"
            )
    return None


def compile_patterns(patterns: Iterable[PatternLike | Pattern]) -> tuple[Pattern, ...]:
    """Compile several patterns, dropping duplicates (first one wins)."""
    seen: dict[tuple[str, str], Pattern] = {}
    for pattern in patterns:
        compiled = compile_pattern(pattern)
        key = ("regex" if compiled.kind == "regex" else "name", compiled.source)
        seen.setdefault(key, compiled)
    return tuple(seen.values())


def matches(pattern: PatternLike | Pattern, name: str) -> bool:
    """Whether signal ``name`` matches ``pattern`` (compiled on first use, then cached)."""
    return compile_pattern(pattern).matches(name)
