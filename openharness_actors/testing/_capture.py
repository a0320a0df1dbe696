"""``capture_signals()``: collect the signals of every run started inside a ``with`` block.

Like ``structlog.testing.capture_logs()``: nothing to pass to the runs. Signals are captured
synchronously by the broker (before delivery), so once a run has returned — whatever its
outcome — its whole trace, ``workflow:end`` included, is in the capture. A
:class:`SignalCapture` is also a reporter (``reporters=[capture]``) for runs prepared outside
the block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .._core._ambient import observing
from .._core._signal import Signal
from .._define._pattern import Pattern, PatternLike, compile_pattern

__all__ = ["SignalCapture", "capture_signals"]


class SignalCapture:
    """The signals captured so far (those matching ``pattern``, when given), in the order
    the broker logged them; runs interleave when several ran at once."""

    def __init__(self, pattern: PatternLike | Pattern | None = None) -> None:
        self._pattern = None if pattern is None else compile_pattern(pattern)
        self.signals: list[Signal] = []

    def __call__(self, signal: Signal) -> None:
        if self._pattern is None or self._pattern.matches(signal.name):
            self.signals.append(signal)

    def on_signal(self, signal: Signal) -> None:
        """Reporter entry point (same as calling the capture)."""
        self(signal)

    def __iter__(self) -> Iterator[Signal]:
        return iter(self.signals)

    def __len__(self) -> int:
        return len(self.signals)

    def __repr__(self) -> str:
        return f"<SignalCapture {len(self.signals)} signals, {len(self.runs)} runs>"

    @property
    def runs(self) -> dict[str, list[Signal]]:
        """Signals per run id, runs in the order they were first seen."""
        runs: dict[str, list[Signal]] = {}
        for signal in self.signals:
            runs.setdefault(signal.run_id, []).append(signal)
        return runs

    def run(self, run_id: str | None = None) -> list[Signal]:
        """The signals of run ``run_id``; without it, of the only run captured.

        Raises ``LookupError`` when there is no such run, or (without ``run_id``) not exactly
        one run.
        """
        runs = self.runs
        if run_id is not None:
            if run_id not in runs:
                raise LookupError(f"no run {run_id!r} captured (runs: {', '.join(runs) or 'none'})")
            return runs[run_id]
        if len(runs) != 1:
            raise LookupError(f"{len(runs)} runs captured; pass run_id= (runs: {', '.join(runs)})")
        return next(iter(runs.values()))

    def names(self) -> list[str]:
        """The captured signal names, in order."""
        return [signal.name for signal in self.signals]

    def named(self, pattern: PatternLike | Pattern) -> list[Signal]:
        """The captured signals whose name matches ``pattern``."""
        compiled = compile_pattern(pattern)
        return [signal for signal in self.signals if compiled.matches(signal.name)]

    def clear(self) -> None:
        """Forget everything captured so far."""
        self.signals.clear()


@contextmanager
def capture_signals(pattern: PatternLike | Pattern | None = None) -> Iterator[SignalCapture]:
    """Capture the signals (matching ``pattern``, if given) of every run prepared inside the
    block — ``run_reactive``, ``Engine.start`` — in this task or tasks it starts."""
    capture = SignalCapture(pattern)
    with observing(capture):
        yield capture
