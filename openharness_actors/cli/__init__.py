"""The ``openharness-actors`` command line (also ``python -m openharness_actors``).

Commands: ``run`` (one run of a workflow file, with recording, replay or a durable journal),
``resume`` (finish a journaled run), ``batch`` (a workflow over a JSONL file of inputs),
``recordings list|show|delete`` and ``trace`` (a recording as a causality tree). One module per command group; ``_app`` parses and dispatches,
``_exit`` owns the exit codes scripts rely on (:class:`ExitCode`). See the README.

This package is for the command line only: the library never imports it.
"""

from ._app import build_parser as build_parser, main as main
from ._exit import ExitCode as ExitCode

__all__ = ["ExitCode", "build_parser", "main"]

from .._public import publish as _publish

_publish(globals(), __all__, __name__)
