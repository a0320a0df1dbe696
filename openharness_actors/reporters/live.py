"""LiveReporter: a small live terminal view of runs in progress (no dependencies).

On a terminal it redraws a block of lines in place with ANSI escapes: a header with runs,
elapsed time, activations, tokens and cost, then one row per agent (running, done or failed,
activations, tokens, latency and the tail of the text it is streaming). Anywhere else (a pipe,
a CI log) it degrades to plain lines for lifecycle events only, so logs stay readable.

Redrawing happens on signals, at most every ``refresh`` seconds, and once more when a run
ends. Signals alone cannot tick the clock while a model thinks; wrap the run in
``async with live.ticking():`` to also redraw on a timer (a task in your nursery).
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

import attrs
import trio

from .._core._nursery import open_quiet_nursery
from .._core._signal import Signal
from ._tracking import Timers, usage_of
from .console import truncate

__all__ = ["LiveReporter"]

_PLAIN = frozenset(
    {
        "workflow:start",
        "workflow:terminating",
        "workflow:waiting",
        "workflow:end",
        "agent:activated",
        "agent:completed",
        "agent:failed",
        "agent:cancelled",
        "agent:retry",
    }
)
_GLYPHS = {"idle": "·", "running": "▶", "done": "✓", "failed": "✗", "cancelled": "■"}


@attrs.define
class _Row:
    running: int = 0
    activations: int = 0
    status: str = "idle"
    input_tokens: int = 0
    output_tokens: int = 0
    last_ms: float | None = None
    tail: str = ""


class LiveReporter:
    """A live view written to ``stream`` (default ``sys.stderr``); see the module docstring.

    ``tty`` forces the in-place view (``True``) or plain lines (``False``); by default it
    follows ``stream.isatty()``. ``width`` caps line length (default: the terminal's width),
    so lines never wrap and the redraw stays aligned.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        refresh: float = 0.1,
        width: int | None = None,
    ) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._tty = _isatty(self._stream) if tty is None else tty
        self._refresh = refresh
        self._width = width or shutil.get_terminal_size((100, 24)).columns
        self._rows: dict[str, _Row] = {}
        self._runs: dict[str, float] = {}  # running: run_id -> start timestamp
        self._finished: dict[str, str] = {}  # run_id -> status
        self._waiting: dict[str, list[str]] = {}  # run_id -> the patterns it waits for
        self._first: float | None = None
        self._last_end: float | None = None
        self._activations = 0
        self._cost = 0.0
        self._timers = Timers()
        self._drawn = 0
        self._last_draw = 0.0

    # -- feeding -----------------------------------------------------------------------

    def on_signal(self, signal: Signal) -> None:
        """Update the view with ``signal``; redraw (throttled) or print a plain line."""
        self._update(signal)
        if not self._tty:
            if signal.name in _PLAIN:
                self._write(self._plain(signal) + "\n")
            return
        now = time.monotonic()
        if signal.name == "workflow:end" or now - self._last_draw >= self._refresh:
            self.render()

    def _update(self, signal: Signal) -> None:
        name = signal.name
        payload = signal.payload
        if name == "workflow:start":
            self._runs[signal.run_id] = signal.timestamp
            self._first = signal.timestamp if self._first is None else self._first
            for agent in payload.get("agents", ()):
                self._rows.setdefault(str(agent), _Row())
            return
        if name == "workflow:waiting":
            self._waiting[signal.run_id] = [str(p) for p in payload.get("patterns", ())]
            return
        if signal.source.harness == "external" or name == "workflow:end":
            self._waiting.pop(signal.run_id, None)  # an answer came (or the run is over)
        if name == "workflow:end":
            self._runs.pop(signal.run_id, None)
            self._finished[signal.run_id] = str(payload.get("status"))
            self._last_end = signal.timestamp
            for opened in self._timers.close_run(signal.run_id):
                row = self._row(opened.agent)
                row.running = max(0, row.running - 1)
                if not row.running and row.status == "running":
                    row.status = "cancelled"
            return
        if signal.agent is None:
            return
        row = self._row(signal.agent)
        if name == "agent:activated":
            self._activations += 1
            row.activations += 1
            row.running += 1
            row.status = "running"
            row.tail = ""
            self._timers.start(signal.id, signal)
        elif name in ("agent:completed", "agent:failed", "agent:cancelled"):
            closed = self._timers.stop(signal.parent, signal)
            if closed is not None:
                row.running = max(0, row.running - 1)
                row.last_ms = closed[1] * 1000
            if not row.running:
                row.status = {"agent:completed": "done", "agent:failed": "failed"}.get(
                    name, "cancelled"
                )
        elif name == "text:delta":
            tail = (row.tail + str(payload.get("content", ""))).replace("\n", " ")
            row.tail = tail[-200:]
        elif name == "harness:end":
            usage = usage_of(signal)
            row.input_tokens += usage["input_tokens"]
            row.output_tokens += usage["output_tokens"]
            self._cost += float(payload.get("cost_usd") or 0.0)

    def _row(self, agent: str | None) -> _Row:
        return self._rows.setdefault(agent or "(engine)", _Row())

    # -- drawing -----------------------------------------------------------------------

    def lines(self) -> list[str]:
        """The view as plain text lines (what :meth:`render` draws, without escapes)."""
        if self._runs:
            elapsed = time.time() - min(self._runs.values())
        elif self._first is not None and self._last_end is not None:
            elapsed = self._last_end - self._first
        else:
            elapsed = 0.0
        tokens_in = sum(r.input_tokens for r in self._rows.values())
        tokens_out = sum(r.output_tokens for r in self._rows.values())
        runs = f"{len(self._runs)} running, {len(self._finished)} done"
        if len(self._finished) == 1 and not self._runs:
            runs = next(iter(self._finished.values()))
        header = (
            f"{runs} · {elapsed:6.1f}s · {self._activations} activations · "
            f"tokens {tokens_in} in / {tokens_out} out"
        )
        if self._cost:
            header += f" · ${self._cost:.4f}"
        out = [header]
        name_width = max((len(n) for n in self._rows), default=0)
        for name, row in self._rows.items():
            latency = f"{row.last_ms / 1000:5.1f}s" if row.last_ms is not None else "     -"
            line = (
                f" {_GLYPHS[row.status]} {name:<{name_width}}  {row.status:<9} "
                f"{row.activations:>3}x {latency}  {row.input_tokens + row.output_tokens:>6} tok"
            )
            room = self._width - len(line) - 3
            if row.tail and room > 10:
                line += "  " + truncate(row.tail[-room:], room)
            out.append(truncate(line, self._width))
        for run_id, patterns in self._waiting.items():
            waits = f" ⏸ run {run_id} waiting for {', '.join(patterns)}"
            out.append(truncate(waits, self._width))
        return out

    def render(self) -> None:
        """Draw the view now (in place on a terminal)."""
        lines = self.lines()
        parts = []
        if self._drawn:
            parts.append(f"\x1b[{self._drawn}F")  # to the start of the first drawn line
        for line in lines:
            parts.append("\x1b[2K" + line + "\n")
        parts.append("\x1b[J")  # clear whatever the previous, longer view left below
        self._write("".join(parts))
        self._drawn = len(lines)
        self._last_draw = time.monotonic()

    @asynccontextmanager
    async def ticking(self, interval: float = 0.5) -> AsyncIterator[LiveReporter]:
        """Redraw every ``interval`` seconds while the block runs (terminal only); the ticker
        is a task in a nursery opened here, cancelled when the block ends."""
        async with open_quiet_nursery() as nursery:
            if self._tty:
                nursery.start_soon(self._tick, interval)
            try:
                yield self
            finally:
                nursery.cancel_scope.cancel()

    async def _tick(self, interval: float) -> None:
        while True:
            await trio.sleep(interval)
            if self._runs:
                self.render()

    def _plain(self, signal: Signal) -> str:
        payload = signal.payload
        name = signal.name
        if name == "workflow:start":
            return f"run {signal.run_id} started: {', '.join(map(str, payload.get('agents', [])))}"
        if name == "workflow:waiting":
            patterns = ", ".join(map(str, payload.get("patterns", [])))
            return truncate(f"run {signal.run_id} waiting for {patterns}", self._width)
        if name == "workflow:end":
            return (
                f"run {signal.run_id} {payload.get('status')} in "
                f"{float(payload.get('duration_ms') or 0) / 1000:.2f}s, "
                f"{payload.get('activations')} activations"
            )
        detail = ""
        if name == "agent:failed":
            detail = f": {payload.get('error')}"
        elif name == "agent:completed":
            row = self._rows.get(signal.agent or "")
            if row is not None and row.last_ms is not None:
                detail = f" in {row.last_ms / 1000:.2f}s"
        return truncate(f"  {name} {signal.agent or ''}{detail}".rstrip(), self._width)

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
