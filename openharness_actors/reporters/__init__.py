"""Reporters: ready-made observers of runs (one module each).

Attach them per run (``run_reactive(reporters=[...])``) or per engine
(``open_engine(reporters=[...])``). Each reads the run's log through its own cursor, so none
can stall or crash a run (see :class:`~openharness_actors.Reporter`).

Always available: :class:`ConsoleReporter`, :class:`LiveReporter`, :class:`LogReporter`,
:class:`MetricsReporter`. With extras: ``openharness_actors.reporters.prometheus``
(``PrometheusReporter``, extra ``prometheus``) and ``openharness_actors.reporters.otel``
(``OpenTelemetryReporter``, extra ``otel``); import those modules explicitly.
"""

from .console import ConsoleReporter as ConsoleReporter
from .live import LiveReporter as LiveReporter
from .log import LogReporter as LogReporter
from .metrics import MetricsReporter as MetricsReporter, MetricsSnapshot as MetricsSnapshot

__all__ = [
    "ConsoleReporter",
    "LiveReporter",
    "LogReporter",
    "MetricsReporter",
    "MetricsSnapshot",
]

from .._public import publish as _publish

_publish(globals(), __all__, __name__)
