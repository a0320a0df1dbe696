"""``openharness-actors run path.py:NAME``: one run of a workflow file, with a progress view.

It loads the target (see ``_target``), builds the initial state from ``--state`` or
``--state-file``, resolves ``--record``/``--replay``/``--auto`` against ``--store``, and runs
the workflow on an engine so that SIGINT/SIGTERM cancel the run through its handle (the run
still writes ``workflow:end`` and finalizes its recording as ``cancelled``). The result goes
to stdout — a summary and the final state, or one JSON document with ``--json`` — and the
progress view to stderr. The exit code says how it ended (``_exit``).
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
from .._json import to_jsonable
from .._reporting import Reporter
from .._result import WorkflowResult
from ..recording import Recording, RecordingPlan, SignalStore
from ..recording._config import Mode
from ..recording._store import check_recording_id
from ..reporters import ConsoleReporter, LiveReporter
from ._exit import EXIT_CODES_HELP, ExitCode, UsageError, exit_code_for, exit_code_for_signal
from ._format import format_metrics, pretty_json, write_json
from ._interrupt import Interruption, cancel_on_signals
from ._store import STORE_HELP, open_store
from ._target import TARGET_HELP, Target, initial_state, load_target

__all__ = ["add_run_options", "error_document", "positive_float", "positive_int", "register"]


def positive_float(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {text}")
    return value


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options ``run`` and ``batch`` share: the target, limits and output."""
    parser.add_argument("target", metavar="path.py[:NAME]", help="the workflow to run")
    parser.add_argument("--timeout", type=positive_float, metavar="SECONDS", help="per run")
    parser.add_argument(
        "--max-activations", type=positive_int, metavar="N", help="loop guard, per run"
    )
    parser.add_argument("--json", action="store_true", help="write the result as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``run`` command."""
    parser = commands.add_parser(
        "run",
        help="run a workflow defined in a Python file",
        description="Run a workflow once. Progress goes to stderr (a live view on a terminal, "
        "plain lines otherwise); the result to stdout.",
        epilog=TARGET_HELP + "\n" + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(parser)
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
    parser.add_argument(
        "--tag", action="append", default=[], metavar="TAG", help="tag the recording (repeat)"
    )
    parser.add_argument("--store", metavar="PATH", help=STORE_HELP)
    parser.add_argument(
        "--signals",
        action="store_true",
        help="progress as one line per signal instead of the live view",
    )
    parser.set_defaults(handler=run_command)


async def run_command(args: argparse.Namespace) -> int:
    """Run the target once; see the module docstring."""
    try:
        target = load_target(args.target)
        state = initial_state(target, _state_data(args))
        plan = await _recording_plan(args)
    except (OpenHarnessError, UsageError) as exc:
        if not args.json:
            raise
        code = exit_code_for(exc)
        write_json(error_document(exc, code), sys.stdout)
        return code
    outcome = await _execute(args, target, state, plan)
    return _report(args, outcome, plan)


class _Outcome:
    def __init__(self) -> None:
        self.result: WorkflowResult[Any] | None = None
        self.error: OpenHarnessError | None = None
        self.signum: int | None = None


async def _execute(
    args: argparse.Namespace, target: Target, state: Any, plan: RecordingPlan | None
) -> _Outcome:
    outcome = _Outcome()
    handle: RunHandle[Any] | None = None
    live = None if args.quiet or args.signals else LiveReporter(sys.stderr)
    reporters: list[Reporter] = [live] if live is not None else []
    if args.signals and not args.quiet:
        reporters.append(ConsoleReporter(sys.stderr, payloads=True))
    interruption = Interruption()
    with trio.CancelScope() as scope:

        def cancel() -> None:
            # Through the handle once the run exists, so it ends as "cancelled" with a result.
            if handle is not None:
                handle.cancel()
            else:
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
                    reporters=reporters,
                    timeout=args.timeout,
                    max_activations=args.max_activations,
                )
                if live is not None:
                    await stack.enter_async_context(live.ticking())
                outcome.result = await handle.result()
            except OpenHarnessError as exc:
                outcome.error = exc
                outcome.result = exc.partial
    outcome.signum = interruption.signum
    return outcome


def _report(args: argparse.Namespace, outcome: _Outcome, plan: RecordingPlan | None) -> int:
    error, result = outcome.error, outcome.result
    if outcome.signum is not None:
        code = exit_code_for_signal(outcome.signum)
    elif error is not None:
        code = exit_code_for(error)
    else:
        code = ExitCode.OK
    if args.json:
        document = result_document(result, plan)
        if result is None:  # nothing ran: interrupted before the start, or refused
            document["status"] = "cancelled" if outcome.signum is not None else "error"
        document["error"] = None if error is None else _error_detail(error)
        document["exit_code"] = int(code)
        write_json(document, sys.stdout)
        return code
    if result is not None:
        print(_summary(result, plan))
        print(pretty_json(to_jsonable(result.state)))
        sys.stdout.flush()
    if outcome.signum is not None:
        what = "SIGTERM" if code == ExitCode.SIGTERM else "SIGINT"
        print(f"interrupted by {what}: the run was cancelled", file=sys.stderr)
    elif error is not None:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
    return code


def result_document(
    result: WorkflowResult[Any] | None, plan: RecordingPlan | None
) -> dict[str, Any]:
    """The ``--json`` form of a run's (possibly partial) result."""
    if result is None:
        return {
            "status": "error",
            "run_id": None,
            "recording_id": None,
            "recording_mode": None,
            "terminated_early": False,
            "state": None,
            "metrics": None,
        }
    return {
        "status": result.status,
        "run_id": result.run_id,
        "recording_id": result.recording_id,
        "recording_mode": plan.mode if plan is not None else None,
        "terminated_early": result.terminated_early,
        "state": to_jsonable(result.state),
        "metrics": result.metrics.to_dict(),
    }


def error_document(error: BaseException, code: int) -> dict[str, Any]:
    """The ``--json`` document of a command that failed before anything ran."""
    return {"status": "error", "error": _error_detail(error), "exit_code": int(code)}


def _error_detail(error: BaseException) -> dict[str, Any]:
    detail: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    for key in ("agent", "code", "occurrence", "elapsed", "location"):
        value = getattr(error, key, None)
        if value is not None:
            detail[key] = value
    return detail


def _summary(result: WorkflowResult[Any], plan: RecordingPlan | None) -> str:
    line = f"{result.status} · run {result.run_id} · {format_metrics(result.metrics)}"
    if result.recording_id is not None and plan is not None:
        verb = "replayed" if plan.mode == "replay" else "recorded"
        line += f"\nrecording {result.recording_id} ({verb}; store {plan.store!r})"
    return line


def _state_data(args: argparse.Namespace) -> Any:
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
