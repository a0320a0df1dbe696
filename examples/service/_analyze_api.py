"""The ``/analyze`` endpoints: one run of the analyzer per request, answered or streamed.

* ``POST /analyze`` — body ``{"input": "<text>"}``; runs the workflow and answers with the
  result and the run's metrics.
* ``POST /analyze/stream`` (or ``GET /analyze/stream?input=...``) — the same run streamed as
  server-sent events: ``text:*`` and lifecycle signals, then a ``result`` (or ``error``) event.

The run belongs to its request: a client that leaves cancels it, and a shutdown's grace
period bounds it (then 503). This module maps HTTP to runs of the analyzer; the routing, the
authentication and the rate limits are the app's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from _access import Settings
from _http import (
    SHUTDOWN_ANSWER,
    Drain,
    Exchange,
    HTTPError,
    Response,
    map_run_error,
    read_json,
    signal_data,
    sse_event,
    until_disconnected,
    validate_input,
)
from _workflows import AGENTS, State, workflow

from openharness_actors import (
    Harness,
    OpenHarnessError,
    Reporter,
    WorkflowResult,
    compile_pattern,
    open_engine,
)

__all__ = ["STREAMED", "AnalyzeAPI", "result_body"]

STREAMED = tuple(
    compile_pattern(p)
    for p in (
        "text:*",
        "workflow:*",
        "agent:activated",
        "agent:completed",
        "agent:failed",
        "agent:cancelled",
        "harness:error",
    )
)
"""The signals ``/analyze/stream`` sends: text and lifecycle."""


class AnalyzeAPI:
    """The endpoints above; ``reporters`` watch every run, ``drain`` bounds them at shutdown."""

    def __init__(
        self, harness: Harness, settings: Settings, reporters: Sequence[Reporter], drain: Drain
    ) -> None:
        self._harness = harness
        self._settings = settings
        self._reporters = tuple(reporters)
        self._drain = drain

    async def analyze(self, x: Exchange) -> None:
        text = await self._read_input(x)

        async def run() -> WorkflowResult[State] | OpenHarnessError:
            try:
                return await workflow.run_reactive(**self._run_options(text))
            except OpenHarnessError as exc:
                return exc

        outcome = None
        with self._drain.scope() as drain:
            outcome = await until_disconnected(x.request, run)
        if drain.cancelled_caught:
            raise HTTPError(*SHUTDOWN_ANSWER)  # draining: the app adds "connection: close"
        if outcome is None:
            return
        if isinstance(outcome, OpenHarnessError):
            x.context["run_id"] = getattr(outcome.partial, "run_id", None)
            x.context["error"] = repr(outcome)
            raise map_run_error(outcome, self._settings.timeout) from outcome
        x.context["run_id"] = outcome.run_id
        await x.response.json(200, result_body(outcome, x.response.request_id))

    async def stream(self, x: Exchange) -> None:
        text = await self._read_input(x)
        await x.response.start(
            200,
            "text/event-stream",
            [("cache-control", "no-cache"), ("x-accel-buffering", "no")],
        )
        final = None
        with self._drain.scope() as drain:
            final = await until_disconnected(
                x.request, lambda: self._stream_run(text, x.response, x.context)
            )
        if drain.cancelled_caught:
            error = HTTPError(*SHUTDOWN_ANSWER)
            final = sse_event("error", {"status": error.status, **error.body()})
        if final is not None:
            await x.response.chunk(final, more=False)

    async def _read_input(self, x: Exchange) -> str:
        settings = self._settings
        data = await read_json(x.request, settings.max_body_bytes, settings.body_timeout)
        return validate_input(data, settings.max_input_chars)

    def _run_options(self, text: str) -> dict[str, Any]:
        return {
            "agents": AGENTS,
            "state": State(input=text),
            "harness": self._harness,
            "end_when": lambda s: s.result is not None,
            "timeout": self._settings.timeout,
            "reporters": self._reporters,
        }

    async def _stream_run(self, text: str, response: Response, context: dict[str, Any]) -> bytes:
        """Send the run's signals as events; return the closing ``result``/``error`` event."""
        try:
            async with open_engine() as engine:
                run = await engine.start(workflow, **self._run_options(text))
                context["run_id"] = run.run_id
                async for signal in run.signals():
                    if any(p.matches(signal.name) for p in STREAMED):
                        data = signal_data(signal)
                        await response.chunk(sse_event(signal.name, data, signal.seq))
                result = await run.result()
        except OpenHarnessError as exc:
            context["error"] = repr(exc)
            error = map_run_error(exc, self._settings.timeout)
            return sse_event("error", {"status": error.status, **error.body()})
        return sse_event("result", result_body(result, response.request_id))


def result_body(result: WorkflowResult[State], request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "run_id": result.run_id,
        "status": result.status,
        "result": result.state.result,
        "metrics": result.metrics.to_dict(),
    }
