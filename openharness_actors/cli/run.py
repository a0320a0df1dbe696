"""``openharness-actors run path.py:NAME``: one run of a workflow file, with a progress view.

It loads the target (see ``_target``), builds the initial state from ``--state`` or
``--state-file``, resolves ``--record``/``--replay``/``--auto`` against ``--store``, and runs
the workflow on an engine so that SIGINT/SIGTERM cancel the run through its handle (the run
still writes ``workflow:end`` and finalizes its recording as ``cancelled``). The result goes
to stdout — a summary and the final state, or one JSON document with ``--json`` — and the
progress view to stderr. The exit code says how it ended (``_exit``). With ``--journal``
the run is journaled instead, by ``resume.run_journaled``.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import trio

from .._engine import RunHandle, open_engine
from .._errors import OpenHarnessError, StoreError
from ..recording import Recording, RecordingPlan, SignalStore
from ..recording._config import Mode
from ..recording._store import check_recording_id
from ._exit import EXIT_CODES_HELP, UsageError
from ._interrupt import Interruption, cancel_on_signals
from ._options import add_run_options, add_signals_option, wrap
from ._outcome import Outcome, Progress, refuse, report
from ._store import STORE_HELP, open_store
from ._target import TARGET_HELP, Target, initial_state, load_target, with_harness
from .resume import run_journaled

__all__ = ["read_state", "register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` command."""
    parser = commands.add_parser(
        "run",
        help="run a workflow defined in a Python file",
        description=wrap(
            "Run a workflow once. Progress goes to stderr (a live view on a terminal, "
            "plain lines otherwise); the result to stdout."
        ),
        epilog=TARGET_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(parser)
    add_signals_option(parser)
    state = parser.add_mutually_exclusive_group()
    state.add_argument("--state", metavar="JSON", help="the initial state (default: {})")
    state.add_argument(
        "--state-file", metavar="PATH", help="read the initial state from a JSON file ('-': stdin)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--record", metavar="NAME", help="record the run under NAME (fresh id)")
    mode.add_argument(
        "--replay",
        metavar="NAME_OR_ID",
        help="replay a recording (an id, or the newest finished one named so); no harness calls",
    )
    mode.add_argument(
        "--auto",
        metavar="NAME_OR_ID",
        help="replay the recording if it exists, else record it under that name",
    )
    mode.add_argument(
        "--journal",
        metavar="STORE",
        help="journal the run durably in STORE (a SQLite file or a directory), so that "
        "`resume` can finish it after a crash or an interrupt",
    )
    parser.add_argument(
        "--tag", action="append", default=[], metavar="TAG", help="tag the recording (repeat)"
    )
    parser.add_argument("--store", metavar="PATH", help=STORE_HELP)
    parser.add_argument(
        "--durability",
        choices=("sync", "async", "exit"),
        help="with --journal: when journal writes must be durable (default sync)",
    )
    parser.add_argument(
        "--run-id", metavar="ID", help="the run's id (the journal's name; default: a fresh one)"
    )
    parser.set_defaults(handler=run_command)


async def run_command(args: argparse.Namespace) -> int:
    """Run the target once; see the module docstring."""
    try:
        target = with_harness(load_target(args.target), args.harness)
        state = initial_state(target, read_state(args))
        if args.durability is not None and args.journal is None:
            raise UsageError("--durability needs --journal")
        plan = await _recording_plan(args)
    except (OpenHarnessError, UsageError) as exc:
        return refuse(exc, as_json=args.json)
    if args.journal is not None:
        outcome = await run_journaled(args, target, state)
    else:
        outcome = await _execute(args, target, state, plan)
    return report(outcome, as_json=args.json)


async def _execute(
    args: argparse.Namespace, target: Target, state: Any, plan: RecordingPlan | None
) -> Outcome:
    """Run on an engine, so that a signal cancels the run through its handle and the
    cancelled run still gives its partial result."""
    outcome = Outcome(
        mode=plan.mode if plan is not None and plan.mode != "live" else None,
        store=repr(plan.store) if plan is not None else None,
    )
    progress = Progress(quiet=args.quiet, signals=args.signals)
    handle: RunHandle[Any] | None = None
    interruption = Interruption()
    with trio.CancelScope() as scope:

        def cancel() -> None:
            if handle is not None:
                handle.cancel()
            else:  # interrupted while starting
                scope.cancel()

        async with AsyncExitStack() as stack:
            interruption = await stack.enter_async_context(cancel_on_signals(cancel))
            engine = await stack.enter_async_context(open_engine())
            try:
                handle = await engine.start(
                    target.workflow,
                    **target.options,
                    state=state,
                    recording=plan,
                    reporters=progress.reporters,
                    timeout=args.timeout,
                    max_activations=args.max_activations,
                    run_id=args.run_id,
                )
                await stack.enter_async_context(progress.ticking())
                outcome.result = await handle.result()
            except OpenHarnessError as exc:
                outcome.error = exc
                outcome.result = exc.partial
    outcome.signum = interruption.signum
    outcome.end = progress.catcher.end
    return outcome


def read_state(args: argparse.Namespace) -> Any:
    """The JSON data of ``--state`` or ``--state-file`` (``{}`` without either)."""
    if args.state_file is not None:
        try:
            text = (
                sys.stdin.read()
                if args.state_file == "-"
                else Path(args.state_file).read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise UsageError(f"--state-file: {exc}") from exc
        where = f"--state-file {args.state_file}"
    elif args.state is not None:
        text, where = args.state, "--state"
    else:
        return {}
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not JSON: {exc}") from exc


async def _recording_plan(args: argparse.Namespace) -> RecordingPlan | None:
    if args.tag and not (args.record or args.auto):
        raise UsageError("--tag needs --record or --auto")
    if args.record is None and args.replay is None and args.auto is None:
        if args.store is not None:
            raise UsageError("--store needs --record, --replay or --auto")
        return None
    store = open_store(args.store, must_exist=args.replay is not None)
    if args.record is not None:
        recording = Recording(mode="record", store=store, name=args.record, tags=args.tag)
    else:
        mode: Mode = "replay" if args.replay is not None else "auto"
        value: str = args.replay if args.replay is not None else args.auto
        if await _is_recording_id(store, value):
            recording = Recording(mode=mode, store=store, recording_id=value, tags=args.tag)
        else:
            recording = Recording(mode=mode, store=store, name=value, tags=args.tag)
    return await recording.resolve()


async def _is_recording_id(store: SignalStore, value: str) -> bool:
    try:
        check_recording_id(value)
    except StoreError:
        return False
    return await store.exists(value)
