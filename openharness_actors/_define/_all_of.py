"""Joins as definitions: ``all_of(*patterns, count=None)``, an ``activate_on`` entry.

This module owns the *value* only: what a join waits for, and the problems with one
(checked by ``Workflow.agent``, so the error can name the agent). Firing a join during a run
— buffering, consuming, completing — belongs to ``_core/_join``.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._errors import WorkflowDefinitionError
from ._pattern import Pattern, PatternLike, compile_pattern

__all__ = ["AllOf", "all_of"]


@attrs.frozen
class AllOf:
    """A join: fires once each of ``patterns`` matched a signal not yet consumed by it, or,
    with one pattern and ``count=n``, once ``n`` matching signals arrived. Made by
    :func:`all_of`."""

    patterns: tuple[Any, ...]
    """Compiled :class:`Pattern` values once ``Workflow.agent`` accepted the join; the raw
    patterns as given before."""
    count: int | None = None

    @property
    def needed(self) -> tuple[int, ...]:
        """How many signals each pattern needs for one firing."""
        if self.count is not None:
            return (self.count,)
        return (1,) * len(self.patterns)

    def problems(self) -> list[str]:
        """What is wrong with this join (empty when nothing)."""
        found: list[str] = []
        if not self.patterns:
            found.append("all_of() needs at least one pattern")
        if self.count is not None:
            if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
                found.append(f"all_of(count={self.count!r}): count must be an integer >= 1")
            if len(self.patterns) > 1:
                found.append(
                    f"{self}: count= is for one pattern (n signals matching it); with several "
                    "patterns the join waits for one signal of each"
                )
        for raw in self.patterns:
            try:
                compile_pattern(raw)
            except WorkflowDefinitionError as exc:
                found.append(f"all_of: {exc}")
        return found

    def compiled(self) -> AllOf:
        """The same join with compiled patterns (call only when :meth:`problems` is empty)."""
        patterns: tuple[Pattern, ...] = tuple(compile_pattern(p) for p in self.patterns)
        return AllOf(patterns, self.count)

    def __str__(self) -> str:
        shown = [repr(getattr(p, "source", getattr(p, "pattern", p))) for p in self.patterns]
        if self.count is not None:
            shown.append(f"count={self.count}")
        return f"all_of({', '.join(shown)})"


def all_of(*patterns: PatternLike, count: int | None = None) -> AllOf:
    """A join for ``activate_on``: the agent activates once every pattern has matched a
    signal this join has not consumed yet (``all_of("a:done", "b:done")``), or, with one
    pattern and ``count``, once ``count`` matching signals arrived
    (``all_of("review:done", count=3)``).

    A firing consumes the signals it used, first come first served per pattern; later
    signals count toward the next firing. The activation's ``ctx.signals`` holds the
    consumed signals in log order and ``ctx.signal`` the one that completed the join.
    Problems (no pattern, ``count < 1``, ``count`` with several patterns) are reported by
    ``workflow.agent(...)``, naming the agent.
    """
    return AllOf(tuple(patterns), count)
