"""Library-side logging: structlog loggers with bound context, never global configuration.

If the application configured structlog, our events go through its configuration. If not,
they go to the standard ``logging`` logger ``"openharness_actors"`` (so, with nothing
configured, only warnings and errors appear, through ``logging``'s last-resort handler).
Importing this package configures nothing.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

__all__ = ["LOGGER_NAME", "TRACE", "get_logger"]

LOGGER_NAME = "openharness_actors"
TRACE = 5
"""Numeric level of ``trace`` (below ``DEBUG``)."""

logging.addLevelName(TRACE, "TRACE")

_STDLIB_PROCESSORS: list[Any] = [
    structlog.stdlib.filter_by_level,
    structlog.stdlib.add_log_level,
    structlog.processors.format_exc_info,
    structlog.stdlib.render_to_log_kwargs,
]


def get_logger(**context: Any) -> Any:
    """A structlog bound logger for the library, with ``context`` bound."""
    if structlog.is_configured():
        return structlog.get_logger(LOGGER_NAME).bind(**context)
    return structlog.wrap_logger(
        logging.getLogger(LOGGER_NAME),
        processors=_STDLIB_PROCESSORS,
        wrapper_class=structlog.stdlib.BoundLogger,
    ).bind(**context)
