"""Joins during a run: the per-agent buffers that turn matching signals into firings.

An agent whose ``activate_on`` holds ``all_of(...)`` entries gets a :class:`JoinBook`. The
agent actor hands it every signal from its mailbox, in mailbox order — which is log order,
since the broker delivers in the order it numbers — and dispatches what comes back: the
signal itself when it matches one of the agent's ordinary patterns, and a :class:`Firing`
for each join the signal completes. Because the input is the log's order and nothing else,
firings are deterministic and a replayed log fires the same joins with the same signals.

Semantics, per join: each arriving signal is buffered under the patterns it matches. A join
of several patterns fires once its buffer holds distinct signals, one per pattern (found by
bipartite matching, patterns in order and signals first come); a join of one pattern with
``count=n`` fires once ``n`` are buffered (the first ``n``). The firing consumes exactly the
signals it used; the rest wait for the next firing. The signal that completes a join is
always among those it consumes, and one arrival completes a join at most once.

Work accounting (``_quiescence``): the broker counts one unit per delivery. A signal that
is only buffered releases its unit here; one that causes several dispatches adds a unit per
extra dispatch, so the count stays exact. This module runs no activation itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from .._define._all_of import AllOf
from .._define._pattern import Pattern
from ._quiescence import WorkCounter
from ._signal import Signal

__all__ = ["Firing", "JoinBook", "consumed_payload", "unwrap"]


@attrs.frozen(slots=True)
class Firing:
    """One firing of a join: the ``signal`` that completed it and every signal it consumed
    (``signals``, in log order, ``signal`` among them)."""

    signal: Signal
    signals: tuple[Signal, ...]
    join: AllOf


class _Buffer:
    """The unconsumed signals of one join."""

    __slots__ = ("_candidates", "_pending", "join", "patterns")

    def __init__(self, join: AllOf) -> None:
        self.join = join
        self.patterns: tuple[Pattern, ...] = join.patterns
        self._pending: list[tuple[Signal, frozenset[int]]] = []  # log order
        self._candidates = [0] * len(self.patterns)
        """How many pending signals match each pattern (a matching is tried only when every
        pattern has at least what it needs)."""

    def offer(self, signal: Signal) -> Firing | None:
        """Buffer ``signal`` if it matches; the firing it completes, if any."""
        hits = frozenset(i for i, p in enumerate(self.patterns) if p.matches(signal.name))
        if not hits:
            return None
        self._pending.append((signal, hits))
        for index in hits:
            self._candidates[index] += 1
        needed = self.join.needed
        if any(have < need for have, need in zip(self._candidates, needed, strict=True)):
            return None
        if self.join.count is not None:
            used: list[int] | None = list(range(self.join.count))
        else:
            used = self._matching()
        if used is None:
            return None
        return Firing(signal, self._consume(used), self.join)

    def _matching(self) -> list[int] | None:
        """Indexes into the pending list of distinct signals, one per pattern, or ``None``.

        Kuhn's augmenting paths: patterns in declaration order, pending signals in log order.
        """
        owner: dict[int, int] = {}  # pending index -> pattern
        pending = self._pending

        def augment(pattern: int, seen: set[int]) -> bool:
            for index, (_, hits) in enumerate(pending):
                if pattern in hits and index not in seen:
                    seen.add(index)
                    if index not in owner or augment(owner[index], seen):
                        owner[index] = pattern
                        return True
            return False

        for pattern in range(len(self.patterns)):
            if not augment(pattern, set()):
                return None
        return sorted(owner)

    def _consume(self, used: Sequence[int]) -> tuple[Signal, ...]:
        """Remove the pending signals at ``used``; they are returned in log order."""
        chosen = set(used)
        consumed: list[Signal] = []
        kept: list[tuple[Signal, frozenset[int]]] = []
        for index, (signal, hits) in enumerate(self._pending):
            if index in chosen:
                consumed.append(signal)
                for pattern in hits:
                    self._candidates[pattern] -= 1
            else:
                kept.append((signal, hits))
        self._pending = kept
        return tuple(consumed)


class JoinBook:
    """The joins of one agent in one run; see the module docstring."""

    __slots__ = ("_buffers", "_plain", "_work")

    def __init__(self, activate_on: Sequence[Pattern | AllOf], work: WorkCounter) -> None:
        self._plain = tuple(p for p in activate_on if isinstance(p, Pattern))
        self._buffers = tuple(_Buffer(j) for j in activate_on if isinstance(j, AllOf))
        self._work = work

    def feed(self, signal: Signal) -> list[Signal | Firing]:
        """What ``signal`` (delivered to this agent) starts: itself, if an ordinary pattern
        matches it, then each firing it completes, joins in declaration order."""
        started: list[Signal | Firing] = []
        if any(p.matches(signal.name) for p in self._plain):
            started.append(signal)
        for buffer in self._buffers:
            firing = buffer.offer(signal)
            if firing is not None:
                started.append(firing)
        # The delivery's one unit of work goes with the first dispatch; others add their own.
        if not started:
            self._work.done()
        for _ in started[1:]:
            self._work.add()
        return started


def unwrap(entry: Signal | Firing) -> tuple[Signal, tuple[Signal, ...] | None]:
    """The trigger of an activation and, for a join's firing, the signals it consumed."""
    if isinstance(entry, Firing):
        return entry.signal, entry.signals
    return entry, None


def consumed_payload(consumed: Sequence[Signal]) -> dict[str, Any]:
    """What ``agent:activated`` adds for a join's firing: the consumed signals' ids and
    log positions (``seq``; the same in a replay, where ids are new)."""
    return {"consumed": [s.id for s in consumed], "consumed_seq": [s.seq for s in consumed]}
