"""How a run command reports how its run ended: progress reporters, the human summary, the
``--json`` document, and the exit code.

Commands (``run``, ``resume``) fill an :class:`Outcome`; this module turns it into output.
It never runs anything.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs

from .._core._reporting import Reporter
from .._core._result import WorkflowResult
from .._core._signal import Signal
from .._errors import OpenHarnessError
from .._json import to_jsonable
from ..reporters import ConsoleReporter, LiveReporter
from ._exit import ExitCode, UsageError, exit_code_for, exit_code_for_signal
from ._format import format_duration, format_metrics, pretty_json, write_json

__all__ = [
    "EndCatcher",
    "Outcome",
    "Progress",
    "refuse",
    "report",
]

_VERBS = {"record": "recorded", "replay": "replayed", "journal": "journaled", "resume": "resumed"}


@attrs.define
class Outcome:
    """How one run ended. ``result`` is the (possibly partial) result; ``error`` what ended
    it; ``signum`` the signal that interrupted it; ``end`` its ``workflow:end`` (all a run
    cancelled without a result leaves); ``mode`` how it was recorded (``record``, ``replay``,
    ``journal``, ``resume``) in ``store``; ``note`` a line for humans when a run that started
    did not succeed (how to resume it)."""

    result: WorkflowResult[Any] | None = None
    error: OpenHarnessError | None = None
    signum: int | None = None
    end: Signal | None = None
    mode: str | None = None
    store: str | None = None
    note: str | None = None
    recording_id: str | None = None
    """The recording or journal written, when known before the run ends."""

    @property
    def code(self) -> ExitCode:
        if self.signum is not None:
            return exit_code_for_signal(self.signum)
        if self.error is not None:
            return exit_code_for(self.error)
        return ExitCode.OK


class EndCatcher:
    """A reporter that keeps the run's ``workflow:end`` signal."""

    def __init__(self) -> None:
        self.end: Signal | None = None

    def on_signal(self, signal: Signal) -> None:
        if signal.name == "workflow:end":
            self.end = signal


class Progress:
    """The progress view on stderr: the live view, a line per signal (``signals``), or
    nothing (``quiet``); plus an :class:`EndCatcher`."""

    def __init__(self, *, quiet: bool, signals: bool) -> None:
        self.catcher = EndCatcher()
        self.live = None if quiet or signals else LiveReporter(sys.stderr)
        self.reporters: list[Reporter] = [self.catcher]
        if self.live is not None:
            self.reporters.append(self.live)
        elif signals and not quiet:
            self.reporters.append(ConsoleReporter(sys.stderr, payloads=True))

    @asynccontextmanager
    async def ticking(self) -> AsyncIterator[None]:
        """Redraw the live view on a timer while the block runs (on a terminal)."""
        if self.live is None:
            yield
            return
        async with self.live.ticking():
            yield


def report(outcome: Outcome, *, as_json: bool) -> int:
    """Write the outcome (stdout: the result; stderr: what went wrong) and return the exit
    code."""
    code = outcome.code
    if as_json:
        document = result_document(outcome)
        document["exit_code"] = int(code)
        write_json(document, sys.stdout)
        return code
    summary = _summary(outcome)
    if summary:
        print(summary)
        sys.stdout.flush()
    if outcome.signum is not None:
        what = "SIGTERM" if code == ExitCode.SIGTERM else "SIGINT"
        print(f"interrupted by {what}: the run was cancelled", file=sys.stderr)
    elif outcome.error is not None:
        print(f"error: {type(outcome.error).__name__}: {outcome.error}", file=sys.stderr)
    if outcome.note and code != ExitCode.OK and outcome.end is not None:
        print(outcome.note, file=sys.stderr)  # e.g. how to resume a run that did not finish
    return code


def result_document(outcome: Outcome) -> dict[str, Any]:
    """The ``--json`` form: status, run_id, recording_id, recording_mode, terminated_early,
    state, metrics and error. ``metrics`` holds only ``duration_ms`` and ``activations`` for
    a run cancelled without a result; ``status`` is ``"error"`` when nothing ran."""
    result, end = outcome.result, outcome.end
    document: dict[str, Any]
    if result is not None:
        document = {
            "status": result.status,
            "run_id": result.run_id,
            "recording_id": result.recording_id,
            "recording_mode": outcome.mode,
            "terminated_early": result.terminated_early,
            "state": to_jsonable(result.state),
            "metrics": result.metrics.to_dict(),
        }
    elif end is not None:
        document = {
            "status": end.payload.get("status"),
            "run_id": end.run_id,
            "recording_id": outcome.recording_id,
            "recording_mode": outcome.mode,
            "terminated_early": False,
            "state": end.payload.get("state"),
            "metrics": {
                "duration_ms": end.payload.get("duration_ms"),
                "activations": end.payload.get("activations"),
            },
        }
    else:
        document = {
            "status": "cancelled" if outcome.signum is not None else "error",
            "run_id": None,
            "recording_id": None,
            "recording_mode": outcome.mode,
            "terminated_early": False,
            "state": None,
            "metrics": None,
        }
    document["error"] = None if outcome.error is None else error_detail(outcome.error)
    return document


def refuse(error: OpenHarnessError | UsageError, *, as_json: bool) -> int:
    """A run command refused before anything ran: with ``--json``, write the error document
    and return the exit code; otherwise re-raise ``error`` (``main`` prints it)."""
    if not as_json:
        raise error
    code = exit_code_for(error)
    document = {"status": "error", "error": error_detail(error), "exit_code": int(code)}
    write_json(document, sys.stdout)
    return code


def error_detail(error: BaseException) -> dict[str, Any]:
    """``type``, ``message`` and whichever of agent, code, occurrence, elapsed and location
    the error has."""
    detail: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    for key in ("agent", "code", "occurrence", "elapsed", "location"):
        value = getattr(error, key, None)
        if value is not None:
            detail[key] = value
    return detail


def _summary(outcome: Outcome) -> str:
    result, end = outcome.result, outcome.end
    if result is not None:
        lines = [f"{result.status} · run {result.run_id} · {format_metrics(result.metrics)}"]
        if result.recording_id is not None and outcome.mode is not None:
            verb = _VERBS.get(outcome.mode, outcome.mode)
            lines.append(f"recording {result.recording_id} ({verb}; store {outcome.store})")
        state = to_jsonable(result.state)
    elif end is not None:
        payload = end.payload
        lines = [
            f"{payload.get('status')} · run {end.run_id} · "
            f"{format_duration(payload.get('duration_ms'))} · "
            f"{payload.get('activations')} activations"
        ]
        state = payload.get("state")
    else:
        return ""
    lines.append(pretty_json(state))
    return "\n".join(lines)
