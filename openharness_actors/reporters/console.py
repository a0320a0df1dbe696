"""ConsoleReporter: one plain line per signal, for terminals, CI logs and debugging."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

from .._core._signal import Signal
from .._define._pattern import Pattern, PatternLike, compile_pattern
from .._json import dumps

__all__ = ["ConsoleReporter"]


class ConsoleReporter:
    """Writes one line per signal to ``stream`` (default: ``sys.stdout`` at write time).

    A line shows the signal's ``seq``, its name indented by its causal depth (how many
    parents lead back to ``workflow:start``), and the agent. ``timestamps`` prefixes the
    wall-clock time; ``payloads`` appends the payload as compact JSON, cut to
    ``max_payload`` characters (``…`` marks the cut). ``only`` keeps the signals matching any
    of the given patterns (all by default). Writing is synchronous and never raises into the
    run: a failing stream detaches the reporter (see :class:`~openharness_actors.Reporter`).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        timestamps: bool = False,
        payloads: bool = False,
        max_payload: int = 80,
        only: PatternLike | Sequence[PatternLike] | None = None,
    ) -> None:
        if max_payload < 1:
            raise ValueError("max_payload must be at least 1")
        self._stream = stream
        self._timestamps = timestamps
        self._payloads = payloads
        self._max_payload = max_payload
        self._only: tuple[Pattern, ...] = _patterns(only)
        self._depths: dict[str, dict[str, int]] = {}  # per run: signal id -> depth

    def on_signal(self, signal: Signal) -> None:
        """Write the signal's line (if it passes ``only``)."""
        depths = self._depths.setdefault(signal.run_id, {})
        depth = depths.get(signal.parent, -1) + 1 if signal.parent else 0
        depths[signal.id] = depth
        if signal.name == "workflow:end":
            del self._depths[signal.run_id]  # only needed while the run goes
        if self._only and not any(p.matches(signal.name) for p in self._only):
            return
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(self.format(signal, depth) + "\n")
        stream.flush()

    def format(self, signal: Signal, depth: int = 0) -> str:
        """The line for ``signal`` at causal ``depth`` (without a newline)."""
        parts = []
        if self._timestamps:
            clock = time.strftime("%H:%M:%S", time.localtime(signal.timestamp))
            parts.append(f"{clock}.{int(signal.timestamp % 1 * 1000):03d}")
        parts.append(f"[{signal.seq:>4}]")
        parts.append(f"{'  ' * min(depth, 8)}{signal.name}")
        if signal.agent:
            parts.append(f"({signal.agent})")
        if self._payloads and signal.payload:
            parts.append(truncate(dumps(signal.payload), self._max_payload))
        return " ".join(parts)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one replaced by ``…`` when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _patterns(only: PatternLike | Sequence[PatternLike] | None) -> tuple[Pattern, ...]:
    if only is None:
        return ()
    if isinstance(only, str) or not isinstance(only, Sequence):
        return (compile_pattern(only),)
    return tuple(compile_pattern(p) for p in only)
