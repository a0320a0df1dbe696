"""Application-side logging setup: one call that makes logs readable or machine-parsable.

:func:`configure_logging` is for applications (services, scripts, the CLI), never called by the
library itself and never on import. It configures structlog *and* the standard library root
logger through one handler, so the library's events, your own structlog events and foreign
stdlib loggers (a web server's, for example) come out in the same format.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

import structlog

from ._logging import LEVELS, TraceBoundLogger, filter_by_level

__all__ = ["configure_logging", "parse_level"]

LEVEL_ENV = "LOG_LEVEL"


def parse_level(level: str | int) -> int:
    """The numeric level for a name in ``trace, debug, info, warn(ing), error, critical``
    (any case) or a number; raises ``ValueError`` for anything else."""
    if isinstance(level, int):
        return level
    try:
        return LEVELS[level.strip().lower()]
    except KeyError:
        names = ", ".join(sorted(set(LEVELS), key=LEVELS.__getitem__))
        raise ValueError(f"unknown log level {level!r}; use one of: {names}") from None


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so a second call replaces it."""


def configure_logging(
    level: str | int | None = None,
    *,
    json: bool | None = None,
    stream: TextIO | None = None,
) -> None:
    """Route structlog and stdlib logging to ``stream`` (default ``sys.stderr``).

    ``level`` defaults to the ``LOG_LEVEL`` environment variable, else ``info``; names are
    ``trace``, ``debug``, ``info``, ``warn``, ``error`` (see :func:`parse_level`; an unknown
    name raises ``ValueError``). ``json`` selects one JSON object per line; by default JSON
    is used unless ``stream`` is a terminal, where output is pretty (and coloured).

    Calling it again replaces the previous configuration (its handler is removed from the
    root logger); handlers installed by other code are left alone.
    """
    if level is None:
        level = os.environ.get(LEVEL_ENV) or "info"
    number = parse_level(level)
    out = stream if stream is not None else sys.stderr
    tty = _isatty(out)
    as_json = (not tty) if json is None else json

    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared: list[Any] = [
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        timestamper,
    ]
    renderer: Any
    if as_json:
        final: list[Any] = [
            structlog.processors.format_exc_info
        ]  # no locals: they may hold secrets
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    else:
        final = []
        renderer = structlog.dev.ConsoleRenderer(colors=tty)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final, renderer],
    )
    handler = _Handler(out)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)

    structlog.configure(
        processors=[
            filter_by_level,
            structlog.contextvars.merge_contextvars,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=TraceBoundLogger,
        cache_logger_on_first_use=False,
    )


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
