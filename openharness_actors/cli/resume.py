"""Journaled runs from the command line: ``run --journal STORE``, ``resume RUN_ID`` and
``signal RUN_ID NAME`` (resume a suspended run with an external signal).

A journaled run (see :mod:`openharness_actors.journal`) is not started on an engine: it runs
in this task under a cancel scope that SIGINT/SIGTERM cancel, which finalizes the journal as
``cancelled`` and leaves the run resumable. Its run id is chosen before it starts and shown
on stderr, so that a run killed outright (SIGKILL, a crash) can be resumed by id; when a
run does not complete, the command to resume it is printed; when it is suspended (its file
declares ``external`` and ``on_wait = "suspend"``), the command to send it a signal.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from .._core._reporting import Reporter
from .._core._result import WorkflowResult
from .._core._run import new_run_id
from .._errors import OpenHarnessError
from ..journal import Journal
from ._exit import EXIT_CODES_HELP, UsageError
from ._interrupt import cancel_on_signals
from ._options import add_run_options, add_signals_option, wrap
from ._outcome import Outcome, Progress, refuse, report
from ._store import open_store
from ._target import TARGET_HELP, Target, load_target, with_harness

__all__ = ["register", "run_journaled", "signal_command"]

JOURNAL_HELP = (
    "where the run is journaled: a SQLite file, or a directory (an existing directory or a "
    "path ending in '/'); default $OPENHARNESS_RECORDINGS, else .openharness/recordings.db"
)

RunCall = Callable[[Sequence[Reporter]], Awaitable[WorkflowResult[Any]]]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``resume`` command."""
    parser = commands.add_parser(
        "resume",
        help="finish a journaled run after a crash or an interrupt",
        description=wrap(
            "Resume run RUN_ID from its journal: harness calls it completed are "
            "answered from the journal, the rest are made live. Give the same workflow file "
            "as the original run; a changed definition is refused unless --force."
        ),
        epilog=TARGET_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run_id", metavar="RUN_ID", help="the journaled run")
    add_run_options(parser)
    add_signals_option(parser)
    parser.add_argument("--journal", metavar="STORE", help=JOURNAL_HELP)
    parser.add_argument(
        "--force", action="store_true", help="resume even if the workflow definition changed"
    )
    parser.set_defaults(handler=resume_command)

    signal = commands.add_parser(
        "signal",
        help="resume a suspended journaled run with an external signal",
        description=wrap(
            "Send external signal NAME (with --payload, a JSON object) to suspended run "
            "RUN_ID: the run is resumed from its journal (no completed harness call is made "
            "again), receives the signal and goes on until it ends or suspends again. The "
            "workflow file must declare `external` (the patterns NAME must match) and "
            '`on_wait = "suspend"`.'
        ),
        epilog=TARGET_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    signal.add_argument("run_id", metavar="RUN_ID", help="the suspended run")
    signal.add_argument("name", metavar="NAME", help="the external signal's name")
    signal.add_argument(
        "--payload", metavar="JSON", default=None, help="the signal's payload, a JSON object"
    )
    add_run_options(signal)
    add_signals_option(signal)
    signal.add_argument("--journal", metavar="STORE", help=JOURNAL_HELP)
    signal.set_defaults(handler=signal_command, force=False)


async def run_journaled(args: argparse.Namespace, target: Target, state: Any) -> Outcome:
    """``run --journal STORE``: run the target under a journal."""
    store = open_store(args.journal)
    journal = Journal(store, durability=args.durability or "sync")
    run_id = args.run_id or new_run_id()
    if not args.quiet:
        print(f"journaling run {run_id} in {store!r}", file=sys.stderr, flush=True)

    async def call(reporters: Sequence[Reporter]) -> WorkflowResult[Any]:
        return await target.workflow.run_reactive(
            **target.options,
            state=state,
            journal=journal,
            run_id=run_id,
            reporters=reporters,
            timeout=args.timeout,
            max_activations=args.max_activations,
        )

    outcome = Outcome(
        mode="journal",
        store=repr(store),
        note=_resume_hint(args, run_id),
        recording_id=run_id,  # a run's first journal is named after it
    )
    return await _execute(args, call, outcome)


async def resume_command(args: argparse.Namespace) -> int:
    """``resume RUN_ID path.py[:NAME]``: finish a journaled run."""
    try:
        target = with_harness(load_target(args.target), args.harness)
        store = open_store(args.journal, must_exist=True)
    except OpenHarnessError as exc:
        return refuse(exc, as_json=args.json)
    journal = Journal(store)

    async def call(reporters: Sequence[Reporter]) -> WorkflowResult[Any]:
        return await target.workflow.resume(
            args.run_id,
            **target.options,
            journal=journal,
            force=args.force,
            reporters=reporters,
            timeout=args.timeout,
            max_activations=args.max_activations,
        )

    outcome = Outcome(mode="resume", store=repr(store), note=_resume_hint(args, args.run_id))
    return report(await _execute(args, call, outcome), as_json=args.json)


async def signal_command(args: argparse.Namespace) -> int:
    """``signal RUN_ID NAME [--payload JSON] path.py[:NAME]``: resume a suspended run with
    one external signal."""
    try:
        payload = _payload(args.payload)
        target = with_harness(load_target(args.target), args.harness)
        store = open_store(args.journal, must_exist=True)
    except (OpenHarnessError, UsageError) as exc:
        return refuse(exc, as_json=args.json)
    journal = Journal(store)

    async def call(reporters: Sequence[Reporter]) -> WorkflowResult[Any]:
        return await target.workflow.resume(
            args.run_id,
            **target.options,
            journal=journal,
            signals=[(args.name, payload)],
            reporters=reporters,
            timeout=args.timeout,
            max_activations=args.max_activations,
        )

    outcome = Outcome(mode="resume", store=repr(store), note=_resume_hint(args, args.run_id))
    return report(await _execute(args, call, outcome), as_json=args.json)


def _payload(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--payload is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise UsageError(f"--payload must be a JSON object, not {type(payload).__name__}")
    return payload


async def _execute(args: argparse.Namespace, call: RunCall, outcome: Outcome) -> Outcome:
    """Run ``call`` in this task; SIGINT/SIGTERM cancel it (the library still writes
    ``workflow:end`` and finalizes the journal), which leaves ``workflow:end`` as all there
    is of the result."""
    progress = Progress(quiet=args.quiet, signals=args.signals)
    interruption = None
    with trio.CancelScope() as scope:
        async with cancel_on_signals(scope.cancel) as interruption, progress.ticking():
            try:
                outcome.result = await call(progress.reporters)
            except OpenHarnessError as exc:
                outcome.error = exc
                outcome.result = exc.partial
    assert interruption is not None
    outcome.signum = interruption.signum
    outcome.end = progress.catcher.end
    result = outcome.result
    if result is not None and result.status == "suspended" and not args.quiet:
        print(_signal_hint(args, result.run_id, result.signals), file=sys.stderr, flush=True)
    return outcome


def _signal_hint(args: argparse.Namespace, run_id: str, signals: Sequence[Any]) -> str:
    waiting = next((s for s in reversed(signals) if s.name == "workflow:waiting"), None)
    patterns = ", ".join(waiting.payload.get("patterns", ())) if waiting is not None else "?"
    command = ["openharness-actors", "signal", run_id, "NAME", args.target]
    if args.journal is not None:
        command += ["--journal", args.journal]
    return f"run {run_id} is suspended, waiting for {patterns}; send a signal with: " + (
        shlex.join(command)
    )


def _resume_hint(args: argparse.Namespace, run_id: str) -> str:
    command = ["openharness-actors", "resume", run_id, args.target]
    if args.journal is not None:
        command += ["--journal", args.journal]
    return "resume it with: " + shlex.join(command)
