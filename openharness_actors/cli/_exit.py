"""Exit codes the command line promises to scripts, and the error each one stands for.

This module owns the mapping from an outcome (an exception, or a signal that interrupted the
command) to a process exit code. It prints nothing and runs nothing.
"""

from __future__ import annotations

import enum
import signal

from .._errors import (
    ExternalSignalError,
    OpenHarnessError,
    ReplayDivergenceError,
    StoreError,
    WorkflowDefinitionError,
    WorkflowTimeoutError,
)

__all__ = ["EXIT_CODES_HELP", "ExitCode", "UsageError", "exit_code_for", "exit_code_for_signal"]


class ExitCode(enum.IntEnum):
    """What the process exit status of ``openharness-actors`` means."""

    OK = 0
    """The command did what it was asked (a run completed or ``end_when`` ended it)."""
    RUN_FAILED = 1
    """The run failed: a harness error, an exception in your code, the activation limit; a
    batch with at least one failed case."""
    USAGE = 2
    """Bad arguments, a workflow file or attribute that cannot be loaded, an invalid initial
    state or workflow definition. Nothing ran."""
    TIMEOUT = 3
    """The run exceeded ``--timeout``."""
    REPLAY_DIVERGED = 4
    """A replayed run asked something the recording does not contain."""
    STORE = 5
    """The recording store failed: no such recording or store, an unreadable file."""
    SIGINT = 130
    """Interrupted by SIGINT (Ctrl-C); the run was cancelled cleanly."""
    SIGTERM = 143
    """Terminated by SIGTERM; the run was cancelled cleanly."""


EXIT_CODES_HELP = """\
exit codes:
  0    success (the run completed, or end_when ended it)
  1    the run failed (harness error, error in your code, activation limit);
       for batch: at least one case failed
  2    usage or definition error (bad arguments, workflow file/attribute, state); nothing ran
  3    the run timed out (--timeout)
  4    replay diverged from the recording
  5    store error (no such recording, store or journal; an unreadable file; a journal
       locked by another process)
  130  interrupted by SIGINT (Ctrl-C); 143 terminated by SIGTERM.
       The run is cancelled cleanly: workflow:end is written, a recording is
       finalized with status "cancelled", and a journaled run stays resumable.
"""


class UsageError(Exception):
    """A command-line problem found before anything ran (exit code 2). Never escapes
    :func:`~openharness_actors.cli.main`."""


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for a command that ended by raising ``error``."""
    if isinstance(error, KeyboardInterrupt):
        return ExitCode.SIGINT
    if isinstance(error, UsageError | WorkflowDefinitionError | ExternalSignalError):
        return ExitCode.USAGE
    if isinstance(error, ReplayDivergenceError):
        return ExitCode.REPLAY_DIVERGED
    if isinstance(error, WorkflowTimeoutError):
        return ExitCode.TIMEOUT
    if isinstance(error, StoreError):
        return ExitCode.STORE
    if isinstance(error, OpenHarnessError):
        return ExitCode.RUN_FAILED
    return ExitCode.RUN_FAILED


def exit_code_for_signal(signum: int) -> ExitCode:
    """The exit code for a command interrupted by signal ``signum`` (SIGINT or SIGTERM)."""
    return ExitCode.SIGTERM if signum == signal.SIGTERM else ExitCode.SIGINT
