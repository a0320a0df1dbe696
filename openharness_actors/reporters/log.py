"""LogReporter: every signal as a structured log event, at a level that fits it."""

from __future__ import annotations

from typing import Any

from .._core._signal import Signal
from .._json import dumps
from .._logging import get_logger, log_at
from .console import truncate

__all__ = ["LogReporter", "level_for"]

_ERRORS = frozenset({"agent:failed", "harness:error"})
_WARNINGS = frozenset({"agent:retry", "harness:retry", "agent:cancelled"})
_LIFECYCLE = frozenset(
    {"workflow:start", "workflow:terminating", "agent:activated", "agent:completed"}
)
_DELTAS = frozenset({"text:delta", "thinking:delta"})
_END_LEVELS = {"completed": "info", "terminated": "info", "cancelled": "warning"}


def level_for(signal: Signal) -> str:
    """The level a signal is logged at.

    ``error``: ``agent:failed``, ``harness:error`` and a ``workflow:end`` whose status is
    ``failed`` or ``timeout``; ``warning``: retries, cancelled activations, a cancelled run;
    ``info``: the lifecycle (``workflow:*``, ``agent:activated``, ``agent:completed``);
    ``trace``: text and thinking deltas; ``debug``: everything else (harness calls, tools,
    state changes, skips, declared emits).
    """
    name = signal.name
    if name == "workflow:end":
        return _END_LEVELS.get(str(signal.payload.get("status")), "error")
    if name in _DELTAS:
        return "trace"
    if name in _LIFECYCLE:
        return "info"
    if name in _ERRORS:
        return "error"
    if name in _WARNINGS:
        return "warning"
    return "debug"


class LogReporter:
    """Logs each signal through structlog: the event is the signal name, with ``run_id``,
    ``agent``, ``seq``, ``signal_id`` and ``parent`` bound, and the payload attached (each
    value cut to ``max_value`` characters of JSON) when ``payloads`` is true.

    ``logger`` defaults to the library's logger (see :func:`configure_logging`); a logger
    without a ``trace`` method drops the delta events rather than promote them.
    """

    def __init__(
        self, logger: Any | None = None, *, payloads: bool = True, max_value: int = 200
    ) -> None:
        self._logger = logger
        self._payloads = payloads
        self._max_value = max_value

    def on_signal(self, signal: Signal) -> None:
        """Log ``signal`` at :func:`level_for` its name and payload."""
        logger = self._logger if self._logger is not None else get_logger()
        fields: dict[str, Any] = {
            "run_id": signal.run_id,
            "agent": signal.agent,
            "seq": signal.seq,
            "signal_id": signal.id,
            "parent": signal.parent,
        }
        if self._payloads:
            fields["payload"] = {k: self._cut(v) for k, v in signal.payload.items()}
        log_at(logger, level_for(signal), signal.name, **fields)

    def _cut(self, value: Any) -> Any:
        if isinstance(value, bool | int | float) or value is None:
            return value
        text = value if isinstance(value, str) else dumps(value)
        if len(text) <= self._max_value:
            return value
        return truncate(text, self._max_value)
