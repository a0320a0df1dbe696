"""The command line's entry point: the parser, the dispatch, and errors mapped to exit codes.

Each command group lives in its own module (``run``, ``resume``, ``batch``, ``recordings``,
``trace``, ``flow`` for ``check`` and ``graph``)
with a ``register(subparsers)`` that sets an async ``handler``. :func:`main` parses, sets up
logging (``--log-level``, else ``LOG_LEVEL``, else ``warn``), runs the handler under
``trio.run`` and turns what escapes into a message on stderr and an exit code (``_exit``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import trio

from .. import __version__
from .._errors import OpenHarnessError
from .._log_setup import configure_logging, parse_level
from . import batch, flow, recordings, resume, run, trace
from ._exit import EXIT_CODES_HELP, ExitCode, UsageError, exit_code_for

__all__ = ["build_parser", "main"]

PROG = "openharness-actors"

COMMANDS = (run, resume, batch, recordings, trace, flow)
"""The command modules, in ``--help`` order; each has ``register(subparsers)``."""


def build_parser() -> argparse.ArgumentParser:
    """The ``openharness-actors`` argument parser with every command registered."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run reactive multi-agent workflows, and inspect their recordings.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_global_options(parser, default=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(commands)
    _add_to_subcommands(parser)
    return parser


def _add_global_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    """The options every command takes, before or after its name."""
    parser.add_argument(
        "--log-level",
        metavar="LEVEL",
        default=default,
        help="trace, debug, info, warn or error (default: $LOG_LEVEL, else warn); logs go "
        "to stderr",
    )


def _add_to_subcommands(parser: argparse.ArgumentParser) -> None:
    """Give every (nested) subcommand the global options too, so ``recordings list
    --log-level debug`` works like ``--log-level debug recordings list``. Their default is
    ``SUPPRESS``: a subcommand that is not given the option leaves the top level's value."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _add_global_options(sub, default=argparse.SUPPRESS)
                _add_to_subcommands(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    level = args.log_level or os.environ.get("LOG_LEVEL") or "warn"
    try:
        parse_level(level)
    except ValueError as exc:
        parser.error(str(exc))
    configure_logging(level)
    try:
        try:
            code: int = trio.run(args.handler, args)
        except BaseExceptionGroup as group:
            lone = _lone(group)
            if lone is group:
                raise
            lone.__suppress_context__ = True  # keep its own cause, drop the group around it
            raise lone from lone.__cause__
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return ExitCode.SIGINT
    except BrokenPipeError:  # stdout closed early (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.RUN_FAILED
    except (OpenHarnessError, UsageError) as exc:
        code = exit_code_for(exc)
        kind = "error" if code == ExitCode.USAGE else type(exc).__name__
        print(f"{PROG}: {kind}: {exc}", file=sys.stderr)
        return code
    return code


def _lone(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The one exception inside (nested) single-exception groups, else the group itself: a
    nursery in a library call must not hide which exit code applies."""
    inner: BaseException = group
    while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
        inner = inner.exceptions[0]
    return inner
