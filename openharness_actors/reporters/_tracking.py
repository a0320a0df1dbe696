"""Pairing start and end signals, for reporters that measure durations.

An activation starts with ``agent:activated`` and ends with ``agent:completed``,
``agent:failed`` or ``agent:cancelled``, whose parent is the activation's id. A harness call
starts with ``harness:start`` and ends with ``harness:end`` or ``harness:error``; all three have
the activation's id as parent. A run that times out or is cancelled leaves open pairs behind:
:meth:`Timers.close_run` drops them when ``workflow:end`` arrives.
"""

from __future__ import annotations

from typing import Any

import attrs

from .._core._signal import Signal

__all__ = ["ACTIVATION_ENDS", "Opened", "Timers", "usage_of"]

ACTIVATION_ENDS = frozenset({"agent:completed", "agent:failed", "agent:cancelled"})


@attrs.frozen
class Opened:
    """An open interval: the signal that started it."""

    signal: Signal

    @property
    def agent(self) -> str | None:
        return self.signal.agent


class Timers:
    """Open intervals keyed by id; durations come from the signals' timestamps."""

    def __init__(self) -> None:
        self._open: dict[str, Opened] = {}

    def __len__(self) -> int:
        return len(self._open)

    def start(self, key: str, signal: Signal) -> None:
        self._open[key] = Opened(signal)

    def stop(self, key: str | None, signal: Signal) -> tuple[Opened, float] | None:
        """Close ``key``; returns the opening and the elapsed seconds, or ``None`` if unknown."""
        if key is None:
            return None
        opened = self._open.pop(key, None)
        if opened is None:
            return None
        return opened, max(0.0, signal.timestamp - opened.signal.timestamp)

    def close_run(self, run_id: str) -> list[Opened]:
        """Drop and return every interval still open in ``run_id``."""
        left = [key for key, opened in self._open.items() if opened.signal.run_id == run_id]
        return [self._open.pop(key) for key in left]


def usage_of(signal: Signal) -> dict[str, int]:
    """The token counts of a ``harness:end`` payload (missing counts are 0)."""
    usage: Any = signal.payload.get("usage") or {}
    return {
        "input_tokens": int(usage.get("input_tokens", 0) or 0),
        "output_tokens": int(usage.get("output_tokens", 0) or 0),
        "cache_read_input_tokens": int(usage.get("cache_read_input_tokens", 0) or 0),
        "cache_creation_input_tokens": int(usage.get("cache_creation_input_tokens", 0) or 0),
    }
