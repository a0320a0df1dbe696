"""The Message Batches API of the fake server (:mod:`.fake_anthropic`).

Routes, answered like the real API (JSON bodies, ``request-id`` header, 401 without a key):

* ``POST /v1/messages/batches`` with ``{"requests": [{"custom_id", "params"}, ...]}`` creates
  a batch (``msgbatch_fake_<n>``, ``processing_status`` ``"in_progress"``); 400 for an empty
  or malformed list, a duplicate or invalid ``custom_id``, or more than ``max_requests``.
* ``GET /v1/messages/batches/{id}`` retrieves it; it has ``ended`` once ``processing_time``
  seconds (trio's clock) have passed since it was created, and then a ``results_url``.
* ``GET /v1/messages/batches/{id}/results`` serves the results as JSONL (one line per
  request, in reverse order, as the real API does not promise any order); 400 before the end.
* ``POST /v1/messages/batches/{id}/cancel`` ends the batch at once, its requests canceled.

Each request of a batch is answered when the batch is created, exactly as a plain request
would be: from the server's script, then its ``default`` (so the same scripting serves both),
with the same validation and prompt-cache accounting. A reply with an HTTP error status
becomes an ``errored`` result of that error type; ``outcome`` (a callable of the
:class:`RecordedRequest`) may instead make a request ``"expired"`` or ``"canceled"``. The
inner requests are kept in :attr:`FakeBatches.requests` (path ``/v1/messages``), not in the
server's own ``requests``, which lists HTTP requests only. This module owns the batch routes
and nothing else; the server hands it the requests under ``/v1/messages/batches``.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
import h11
import trio

if TYPE_CHECKING:
    from .fake_anthropic import FakeAnthropic, RecordedRequest

__all__ = ["BATCHES_PATH", "FakeBatch", "FakeBatches", "is_batch_route"]

BATCHES_PATH = "/v1/messages/batches"
_CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ROUTE = re.compile(r"/v1/messages/batches(?:/(?P<id>[^/]+)(?:/(?P<action>results|cancel))?)?")

Send = Callable[[Any], Awaitable[None]]


def is_batch_route(path: str) -> bool:
    """Whether ``path`` belongs to the Message Batches API."""
    return path == BATCHES_PATH or path.startswith(BATCHES_PATH + "/")


@attrs.define
class FakeBatch:
    """One batch: its requests (``custom_id`` -> inner request) and their results
    (``custom_id`` -> the ``result`` object of a results line), fixed when it was created."""

    id: str
    created_at: float
    created_wall: datetime.datetime
    processing_time: float
    requests: dict[str, RecordedRequest]
    results: dict[str, dict[str, Any]]
    canceled_at: float | None = None
    retrievals: int = 0
    results_served: int = 0

    def ended(self, now: float) -> bool:
        """Whether processing has ended by trio time ``now``."""
        return self.canceled_at is not None or now >= self.created_at + self.processing_time

    def outcome(self, custom_id: str) -> str:
        """``"succeeded"``, ``"errored"``, ``"expired"`` or ``"canceled"``."""
        if self.canceled_at is not None and self.results[custom_id]["type"] == "succeeded":
            return "canceled"
        return str(self.results[custom_id]["type"])

    def view(self, base_url: str, now: float) -> dict[str, Any]:
        """The batch as the API shows it at trio time ``now``."""
        ended = self.ended(now)
        counts: dict[str, int] = dict.fromkeys(
            ("processing", "succeeded", "errored", "canceled", "expired"), 0
        )
        for custom_id in self.results:
            counts[self.outcome(custom_id) if ended else "processing"] += 1
        wall = self.created_wall
        end_offset = (
            (self.canceled_at - self.created_at)
            if self.canceled_at is not None
            else self.processing_time
        )
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": "ended" if ended else "in_progress",
            "request_counts": counts,
            "created_at": _rfc3339(wall),
            "expires_at": _rfc3339(wall + datetime.timedelta(hours=24)),
            "ended_at": _rfc3339(wall + datetime.timedelta(seconds=end_offset)) if ended else None,
            "cancel_initiated_at": None
            if self.canceled_at is None
            else _rfc3339(wall + datetime.timedelta(seconds=end_offset)),
            "archived_at": None,
            "results_url": f"{base_url}{BATCHES_PATH}/{self.id}/results" if ended else None,
        }

    def jsonl(self) -> bytes:
        lines = []
        for custom_id in reversed(list(self.results)):
            result = self.results[custom_id]
            if self.outcome(custom_id) == "canceled":
                result = {"type": "canceled"}
            lines.append(json.dumps({"custom_id": custom_id, "result": result}))
        return ("\n".join(lines) + "\n").encode()


class FakeBatches:
    """The batch state of one :class:`FakeAnthropic` (its ``batches`` attribute).

    ``processing_time`` (seconds of trio's clock from creation to ``ended``) and
    ``max_requests`` apply to batches created from then on; ``outcome`` may turn a request
    into ``"expired"`` or ``"canceled"`` (return ``None`` to answer it normally).
    """

    def __init__(self, server: FakeAnthropic) -> None:
        self.processing_time = 0.0
        self.max_requests = 100_000
        self.outcome: Callable[[RecordedRequest], str | None] | None = None
        self.batches: dict[str, FakeBatch] = {}
        self.requests: list[RecordedRequest] = []
        self._server = server
        self._ids = itertools.count(1)
        self._changed = trio.Event()

    @property
    def created(self) -> int:
        """How many batches were created."""
        return len(self.batches)

    async def wait_created(self, count: int = 1) -> None:
        """Return once at least ``count`` batches were created."""
        while len(self.batches) < count:
            await self._changed.wait()

    async def respond(self, record: RecordedRequest, send: Send) -> None:
        """Answer one HTTP request under ``/v1/messages/batches``."""
        server = self._server
        if server.latency:
            await trio.sleep(server.latency)
        request_id = f"req_fake_{record.index + 1}"
        match = _ROUTE.fullmatch(record.path)
        if not record.api_key:
            await _json(send, 401, _error("authentication_error", "no key"), request_id)
            return
        if match is None:
            await _json(send, 404, _error("not_found_error", record.path), request_id)
            return
        batch_id, action = match.group("id"), match.group("action")
        now = trio.current_time()
        if batch_id is None:
            if record.method != "POST":
                await _json(send, 405, _error("invalid_request_error", "use POST"), request_id)
                return
            problem = self._problem(record.body)
            if problem is not None:
                await _json(send, 400, _error("invalid_request_error", problem), request_id)
                return
            created = self._create(record, now)
            await _json(send, 200, created.view(server.base_url, now), request_id)
            return
        batch = self.batches.get(batch_id)
        if batch is None:
            message = f"no message batch {batch_id!r}"
            await _json(send, 404, _error("not_found_error", message), request_id)
            return
        if action == "cancel":
            if not batch.ended(now):
                batch.canceled_at = now
            await _json(send, 200, batch.view(server.base_url, now), request_id)
        elif action == "results":
            if not batch.ended(now):
                message = f"message batch {batch_id!r} has not ended"
                await _json(send, 400, _error("invalid_request_error", message), request_id)
                return
            batch.results_served += 1
            await _send(send, 200, batch.jsonl(), request_id, "application/binary")
        else:
            batch.retrievals += 1
            await _json(send, 200, batch.view(server.base_url, now), request_id)

    def _problem(self, body: Any) -> str | None:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            return "requests: a non-empty list is required"
        if len(requests) > self.max_requests:
            return f"requests: at most {self.max_requests} requests per batch"
        seen: set[str] = set()
        for position, item in enumerate(requests):
            if not isinstance(item, dict) or not isinstance(item.get("params"), dict):
                return f"requests.{position}: custom_id and params are required"
            custom_id = item.get("custom_id")
            if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
                return f"requests.{position}.custom_id: must match ^[a-zA-Z0-9_-]{{1,64}}$"
            if custom_id in seen:
                return f"requests.{position}.custom_id: duplicate {custom_id!r}"
            if item["params"].get("stream"):
                return f"requests.{position}.params.stream: streaming is not supported in batches"
            seen.add(custom_id)
        return None

    def _create(self, record: RecordedRequest, now: float) -> FakeBatch:
        from .fake_anthropic import RecordedRequest

        batch = FakeBatch(
            id=f"msgbatch_fake_{next(self._ids)}",
            created_at=now,
            created_wall=datetime.datetime.now(datetime.UTC),
            processing_time=self.processing_time,
            requests={},
            results={},
        )
        for item in record.body["requests"]:
            inner = RecordedRequest(
                index=len(self.requests),
                method="POST",
                path="/v1/messages",
                headers=record.headers,
                body=item["params"],
                received_at=now,
            )
            self.requests.append(inner)
            batch.requests[item["custom_id"]] = inner
            batch.results[item["custom_id"]] = self._result(inner)
        self.batches[batch.id] = batch
        self._changed.set()
        self._changed = trio.Event()
        return batch

    def _result(self, inner: RecordedRequest) -> dict[str, Any]:
        from .fake_anthropic._emulation import _estimate_usage, _message

        server = self._server
        chosen = self.outcome(inner) if self.outcome is not None else None
        if chosen in ("expired", "canceled"):
            return {"type": chosen}
        reply = server._choose_reply(inner)
        inner.reply = reply
        inner.finished = True
        if reply.status != 200:
            from .fake_anthropic._emulation import _ERROR_TYPES

            error_type = reply.error_type or _ERROR_TYPES.get(reply.status, "api_error")
            return {
                "type": "errored",
                "error": {
                    "type": "error",
                    "error": {"type": error_type, "message": reply.error_message},
                    "request_id": None,
                },
            }
        body = inner.body
        usage = reply.usage or server.cache.account(body, _estimate_usage(body, reply))
        message_id = f"msg_fake_batch_{inner.index + 1}"
        message = _message(message_id, str(body.get("model")), server._blocks(reply), reply, usage)
        return {"type": "succeeded", "message": message}


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


async def _json(send: Send, status: int, payload: Any, request_id: str) -> None:
    body = payload
    if status != 200:
        body = {**payload, "request_id": request_id}
    await _send(send, status, json.dumps(body).encode(), request_id, "application/json")


async def _send(send: Send, status: int, data: bytes, request_id: str, kind: str) -> None:
    head = [
        ("content-type", kind),
        ("content-length", str(len(data))),
        ("request-id", request_id),
    ]
    await send(h11.Response(status_code=status, headers=head))
    await send(h11.Data(data=data))
    await send(h11.EndOfMessage())
