"""How the command line writes things: JSON documents, short payloads, times and figures.

Pure functions over values; no command logic and no I/O except :func:`write_json`.
"""

from __future__ import annotations

import json
import time
from typing import Any, TextIO

from .._core._result import Metrics
from .._core._signal import Signal
from .._json import dumps
from ..reporters.console import truncate

__all__ = [
    "format_duration",
    "format_metrics",
    "format_time",
    "payload_summary",
    "pretty_json",
    "signal_line",
    "write_json",
]

# Keys already shown elsewhere on a signal's line (the agent) or that only repeat the parent.
_NOISE_KEYS = frozenset({"agent", "trigger"})
# What matters of workflow:end on one line (its state is the last state change anyway).
_END_KEYS = ("status", "activations", "error_type", "error")


def pretty_json(data: Any) -> str:
    """Indented JSON, non-ASCII kept as is."""
    return json.dumps(data, indent=2, ensure_ascii=False)


def write_json(data: Any, stream: TextIO) -> None:
    """Write ``data`` as one indented JSON document and a newline."""
    stream.write(pretty_json(data) + "\n")
    stream.flush()


def payload_summary(signal: Signal, limit: int) -> str:
    """A signal's payload on one line, at most ``limit`` characters: the text of deltas and
    completions, the new value of state changes, the status (and error) of ``workflow:end``,
    else compact JSON without the keys the line already shows."""
    payload = signal.payload
    if not payload or limit <= 0:
        return ""
    if signal.name.endswith((":delta", ":complete")) and isinstance(payload.get("content"), str):
        text = json.dumps(payload["content"], ensure_ascii=False)
    elif signal.name.startswith("state:") and "new_value" in payload:
        text = "= " + dumps(payload["new_value"])
    elif signal.name == "workflow:end":
        shown = {k: payload[k] for k in _END_KEYS if payload.get(k) is not None}
        text = dumps(shown)
    else:
        shown = {k: v for k, v in payload.items() if k not in _NOISE_KEYS}
        text = dumps(shown) if shown else ""
    return truncate(text.replace("\n", "\\n"), limit)


def signal_line(signal: Signal, limit: int) -> str:
    """``[seq] name (agent) payload`` for listings and trees."""
    parts = [f"[{signal.seq}]", signal.name]
    if signal.agent:
        parts.append(f"({signal.agent})")
    summary = payload_summary(signal, limit)
    if summary:
        parts.append(summary)
    return " ".join(parts)


def format_duration(ms: float | None) -> str:
    """``12.3ms``, ``4.56s`` or ``-``."""
    if ms is None:
        return "-"
    return f"{ms:.1f}ms" if ms < 1000 else f"{ms / 1000:.2f}s"


def format_time(timestamp: float | None) -> str:
    """Local ``YYYY-mm-dd HH:MM:SS`` or ``-``."""
    if timestamp is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timestamp))


def format_metrics(metrics: Metrics) -> str:
    """One line of a run's figures."""
    usage = metrics.usage
    line = (
        f"{format_duration(metrics.duration_ms)} · {metrics.activations} activations · "
        f"{metrics.signals} signals · tokens {usage.input_tokens} in / {usage.output_tokens} out"
    )
    if metrics.cost_usd:
        line += f" · ${metrics.cost_usd:.4f}"
    return line
