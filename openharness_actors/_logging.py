"""Library-side logging: structlog loggers with bound context, never global configuration.

If the application configured structlog (for example with
:func:`~openharness_actors.configure_logging`), our events go through its configuration. If
not, they go to the standard ``logging`` logger ``"openharness_actors"`` (so, with nothing
configured, only warnings and errors appear, through ``logging``'s last-resort handler).
Importing this package configures nothing.

Levels are the standard ones plus ``trace`` (5, below ``DEBUG``) for per-delta events; the
loggers made here have a ``trace()`` method. A logger from an application's own structlog
configuration may not: :func:`log_at` then drops trace events rather than promote them.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog
from structlog.typing import EventDict

__all__ = ["LEVELS", "LOGGER_NAME", "TRACE", "TraceBoundLogger", "get_logger", "log_at", "may_log"]

LOGGER_NAME = "openharness_actors"
TRACE = 5
"""Numeric level of ``trace`` (below ``DEBUG``)."""

logging.addLevelName(TRACE, "TRACE")

LEVELS: dict[str, int] = {
    "trace": TRACE,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}
"""Level names accepted in ``LOG_LEVEL`` (case-insensitive) and by :func:`log_at`."""

_METHOD_LEVELS = {**LEVELS, "exception": logging.ERROR, "fatal": logging.CRITICAL}


def filter_by_level(logger: logging.Logger, method_name: str, event_dict: EventDict) -> EventDict:
    """structlog processor: drop events below the stdlib logger's level (``trace`` aware)."""
    if logger.disabled or _METHOD_LEVELS.get(method_name, 0) < logger.getEffectiveLevel():
        raise structlog.DropEvent
    return event_dict


class TraceBoundLogger(structlog.stdlib.BoundLogger):
    """A stdlib-backed structlog logger with a ``trace`` level (5, below ``debug``)."""

    def trace(self, event: str | None = None, *args: Any, **kw: Any) -> Any:
        """Log ``event`` at ``trace``; nothing happens (cheaply) when trace is disabled."""
        if not self._logger.isEnabledFor(TRACE):
            return None
        try:
            call_args, call_kw = self._process_event("trace", event, kw)
        except structlog.DropEvent:
            return None
        return self._logger.log(TRACE, *call_args, **call_kw)


_STDLIB_PROCESSORS: list[Any] = [
    filter_by_level,
    structlog.stdlib.add_log_level,
    structlog.processors.format_exc_info,
    structlog.stdlib.render_to_log_kwargs,
]


def may_log(level: int) -> bool:
    """Whether an event at ``level`` could be logged: always when the application configured
    structlog (its processors decide), else when the stdlib logger is enabled for it. Lets hot
    paths skip building a bound logger (and the event) that would be dropped."""
    return structlog.is_configured() or logging.getLogger(LOGGER_NAME).isEnabledFor(level)


def get_logger(**context: Any) -> Any:
    """A structlog bound logger for the library, with ``context`` bound."""
    if structlog.is_configured():
        return structlog.get_logger(LOGGER_NAME).bind(**context)
    return structlog.wrap_logger(
        logging.getLogger(LOGGER_NAME),
        processors=_STDLIB_PROCESSORS,
        wrapper_class=TraceBoundLogger,
    ).bind(**context)


def log_at(logger: Any, level: str, event: str, **fields: Any) -> None:
    """Log ``event`` on ``logger`` at the level named ``level`` (a key of :data:`LEVELS`).

    A ``trace`` event on a logger without a ``trace`` method is dropped.
    """
    method = getattr(logger, "warning" if level == "warn" else level, None)
    if method is not None:
        method(event, **fields)
