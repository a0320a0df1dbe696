"""The ``/runs`` endpoints: start an approval run, look at it, answer it, follow it.

* ``POST /runs`` — body ``{"input": "<text>"}``: starts a run of the approval workflow
  (``_workflows``) with ``external=["approval:*"]`` on the service's long-lived engine; ``201``
  with the run (below) and ``Location: /runs/{id}``. ``503`` (``too_many_runs``) when
  ``max_runs`` runs are live.
* ``GET /runs/{id}`` — the run: ``run_id``, ``status`` (``running``, ``waiting``, or the final
  one: ``terminated`` once published, ``failed``, ``timeout``, ``cancelled``), ``awaited``
  (the patterns it waits for; empty unless waiting), ``state`` (JSON), ``error`` (how it
  failed, else ``null``) and ``links``.
* ``POST /runs/{id}/signals`` — body ``{"name": "approval:granted", "payload": {...}}``
  (``payload`` optional, a JSON object): ``202`` with the ``signal_id``; ``409`` when the
  run has ended (``run_ended``) or is not waiting (``not_waiting``: wait for its
  ``workflow:waiting``); ``422`` for a malformed body, and for a name the run refuses
  (``signal_refused``: undeclared or an engine name, with the declared ``patterns``).
* ``GET /runs/{id}/events`` — server-sent events: every signal of the run from the start
  of its log (or after ``Last-Event-ID``; each event's id is the signal's log index), live
  until the run ends, then a ``result`` (the run, as ``GET`` shows it) or an ``error``
  event. Leaving the stream leaves the run alone.

A run belongs to the key that started it: another key gets 404, as for an unknown (or
forgotten, see ``_runs``) id. This module maps HTTP to the run book; the routing, the
authentication and the rate limits are the app's.
"""

from __future__ import annotations

from typing import Any

import attrs
from _access import Settings
from _http import (
    SHUTDOWN_ANSWER,
    Drain,
    Exchange,
    HTTPError,
    Response,
    map_run_error,
    object_fields,
    read_json,
    signal_data,
    sse_event,
    until_disconnected,
    validate_input,
    validation_error,
)
from _runs import RunBook, TrackedRun
from _workflows import APPROVAL_AGENTS, APPROVAL_EXTERNAL, Proposal, approval

from openharness_actors import ExternalSignalError, Harness, OpenHarnessError

__all__ = ["RunsAPI"]


class RunsAPI:
    """The endpoints above, on ``book``; ``drain`` ends event streams at shutdown."""

    def __init__(self, book: RunBook, harness: Harness, settings: Settings, drain: Drain) -> None:
        self.book = book
        self._harness = harness
        self._settings = settings
        self._drain = drain

    async def create(self, x: Exchange) -> None:
        settings = self._settings
        data = await read_json(x.request, settings.max_body_bytes, settings.body_timeout)
        text = validate_input(data, settings.max_input_chars)
        if not self.book.available:
            raise HTTPError(
                503,
                "runs_unavailable",
                "the service is not taking new runs (it is shutting down, or it was served "
                "without the ASGI lifespan that opens their engine)",
            )
        if self.book.full:
            raise HTTPError(
                503,
                "too_many_runs",
                f"{self.book.live} runs are live, the most this service holds; try again later",
                headers=[("retry-after", "30")],
            )
        try:
            tracked = await self.book.start(
                x.key_id,
                approval,
                agents=APPROVAL_AGENTS,
                state=Proposal(input=text),
                harness=self._harness,
                external=APPROVAL_EXTERNAL,
                end_when=lambda s: s.final is not None,
                timeout=settings.run_timeout,
            )
        except OpenHarnessError as exc:
            x.context["error"] = repr(exc)
            raise map_run_error(exc, settings.run_timeout) from exc
        x.context["run_id"] = tracked.run_id
        await x.response.json(201, self.describe(tracked), [("location", link(tracked))])

    async def show(self, x: Exchange) -> None:
        tracked = self._find(x)
        if tracked.handle.done:
            await tracked.settled()
        await x.response.json(200, self.describe(tracked))

    async def signal(self, x: Exchange) -> None:
        tracked = self._find(x)
        settings = self._settings
        data = await read_json(x.request, settings.max_body_bytes, settings.body_timeout)
        name, payload = validate_signal(data)
        handle = tracked.handle
        # From here to the send, no checkpoint: the run cannot change between the check and
        # the send, so each wait is answered once (a second request sees "running").
        if handle.done:
            raise HTTPError(
                409,
                "run_ended",
                f"run {tracked.run_id} has ended (status {tracked.status!r})",
                run_status=tracked.status,
            )
        if not handle.waiting:
            raise HTTPError(
                409,
                "not_waiting",
                f"run {tracked.run_id} is running, not waiting for a signal: send once it "
                "waits (GET shows status 'waiting'; the events stream a 'workflow:waiting')",
                run_status=tracked.status,
            )
        try:
            signal_id = await handle.send(name, payload)
        except ExternalSignalError as exc:
            raise HTTPError(
                422, "signal_refused", str(exc), name=name, patterns=list(exc.patterns)
            ) from exc
        x.context["signal"] = name
        body = {"run_id": tracked.run_id, "signal_id": signal_id, "name": name}
        await x.response.json(
            202, {**body, "status": tracked.status}, [("location", link(tracked))]
        )

    async def events(self, x: Exchange) -> None:
        tracked = self._find(x)
        await x.request.body(self._settings.max_body_bytes, self._settings.body_timeout)
        start = resume_index(x.request.headers.get("last-event-id"))
        await x.response.start(
            200,
            "text/event-stream",
            [("cache-control", "no-cache"), ("x-accel-buffering", "no")],
        )
        final = None
        with self._drain.scope() as drain:
            final = await until_disconnected(
                x.request, lambda: self._follow(tracked, start, x.response)
            )
        if drain.cancelled_caught:
            error = HTTPError(*SHUTDOWN_ANSWER)
            final = sse_event("error", {"status": error.status, **error.body()})
        if final is not None:
            await x.response.chunk(final, more=False)

    async def _follow(self, tracked: TrackedRun, start: int, response: Response) -> bytes:
        """Send the run's signals as events; return the closing ``result``/``error`` event."""
        async for signal in tracked.handle.signals(start=start):
            await response.chunk(sse_event(signal.name, signal_data(signal), signal.seq))
        await tracked.settled()
        body = self.describe(tracked)
        error = body["error"]
        if error is not None:  # shaped as /analyze/stream's, with the run as GET shows it
            return sse_event("error", {"status": error["status"], "error": error, "run": body})
        return sse_event("result", body)

    def _find(self, x: Exchange) -> TrackedRun:
        run_id = x.params["run_id"]
        x.context["run_id"] = run_id
        tracked = self.book.get(run_id, x.key_id)
        if tracked is None:
            raise HTTPError(404, "unknown_run", f"no run {run_id!r}", run_id=run_id)
        return tracked

    def describe(self, tracked: TrackedRun) -> dict[str, Any]:
        """The run as ``GET /runs/{id}`` shows it."""
        handle = tracked.handle
        status = tracked.status
        error = None
        if isinstance(tracked.outcome, Exception):
            mapped = map_run_error(tracked.outcome, self._settings.run_timeout)
            error = {"status": mapped.status, **mapped.body()["error"]}
        return {
            "run_id": tracked.run_id,
            "status": status,
            "awaited": list(handle.awaited) if status == "waiting" else [],
            "state": attrs.asdict(handle.state),
            "error": error,
            "links": {
                "self": link(tracked),
                "signals": link(tracked, "signals"),
                "events": link(tracked, "events"),
            },
        }


def link(tracked: TrackedRun, *parts: str) -> str:
    return "/".join(["/runs", tracked.run_id, *parts])


def validate_signal(data: Any) -> tuple[str, dict[str, Any]]:
    """The ``name`` and ``payload`` of a signal's body, or a 422 listing every problem (the
    name itself is the run's to judge: it is checked when sent)."""
    body, problems = object_fields(data, ["name", "payload"])
    name = body.get("name")
    payload = body.get("payload", {})
    if "name" not in body:
        problems.append({"field": "name", "message": "is required"})
    elif not isinstance(name, str):
        problems.append({"field": "name", "message": f"must be a string, not {kind(name)}"})
    if not isinstance(payload, dict):
        problems.append({"field": "payload", "message": f"must be an object, not {kind(payload)}"})
    if problems:
        raise validation_error(problems)
    assert isinstance(name, str) and isinstance(payload, dict)
    return name, payload


def kind(value: Any) -> str:
    """A JSON value's type, in JSON's words."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def resume_index(last_event_id: str | None) -> int:
    """Where a stream starts: after the ``Last-Event-ID`` a reconnecting client sends (a
    signal's log index), else at the beginning."""
    if last_event_id is not None and last_event_id.isascii() and last_event_id.isdigit():
        return int(last_event_id) + 1
    return 0
