"""A fake Anthropic Messages API on 127.0.0.1, for tests, examples and benchmarks.

It is a real HTTP/1.1 server (h11 over trio sockets, keep-alive included) that the official
``anthropic`` client talks to unmodified: point ``base_url`` at :attr:`FakeAnthropic.base_url`.
``POST /v1/messages`` answers with JSON, or with Server-Sent Events when the body asks for
``"stream": true``, using the real event types: ``message_start``, ``content_block_start`` /
``content_block_delta`` (``text_delta``, ``thinking_delta``, ``signature_delta``,
``input_json_delta``) / ``content_block_stop``, ``ping``, ``message_delta`` (with usage),
``message_stop`` and ``error``.

    async with open_fake_anthropic(latency=0.05) as server:
        server.script(http_error(429, retry_after=0.1), text_reply("Hello"))
        harness = AnthropicHarness(api_key="test-key", base_url=server.base_url)
        ...
        assert server.statistics().requests == 2

Each request takes the next reply from the script queue (:meth:`FakeAnthropic.script`), in
arrival order; when the queue is empty the ``default`` answers (a :class:`FakeReply`, or a
callable from :class:`RecordedRequest` to one, which can route on the request's content).
A reply can fail with an HTTP status (and ``retry-after``), fail mid-stream with an ``error``
event, stall until the client goes away, drop the connection mid-stream, and take ``latency`` before its response head and
``event_delay`` between events (trio's clock).

The server records every request (:attr:`FakeAnthropic.requests`), counts requests in flight
and their peak, and notices clients that disconnect before their response is complete
(:attr:`RecordedRequest.disconnected`). Like the real API it answers 401 without a key
(``x-api-key`` header or bearer token), and 400 for a body without ``model``,
``max_tokens`` or ``messages`` or with a ``tool_use`` that the next message does not
answer with a ``tool_result`` (``system``-role messages in between are skipped, as the
``claude`` CLI sends them; unknown fields and query strings such as ``?beta=true`` are
ignored). ``HEAD`` and ``GET`` requests (the CLI's probes) get an empty answer: 200 for ``/``
and ``/api/hello``, 404 elsewhere. A default callable that raises gets a 500 answer and its
exception is kept in ``errors``; so is any other failure while serving a connection, which
closes that connection only, never the server.
No TLS, no HTTP/2, no real tokenizer (usage is estimated at four characters per token
unless a reply sets it).

From a shell (for examples, or to keep a benchmark's server out of its CPU figures):
``python -m openharness_actors.testing.fake_anthropic --latency 0.1`` prints its base URL
on the first line of standard output, then answers every request with ``--reply`` text
until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeAlias

import attrs
import h11
import trio

from .._fake_batches import FakeBatches, is_batch_route
from .._fake_cache import FakePromptCache
from ._emulation import (
    _ERROR_TYPES,
    _error_body,
    _estimate_usage,
    _message,
    _stream_events,
    _text_of,
    _validate,
)
from ._replies import DEFAULT_REPLY, FakeReply

__all__ = [
    "FakeAnthropic",
    "FakeAnthropicStatistics",
    "RecordedRequest",
    "main",
    "open_fake_anthropic",
]

_MAX_BODY = 32 * 1024 * 1024
_PROBE_PATHS = frozenset({"/", "/api/hello"})
_DISCONNECTS = (trio.BrokenResourceError, trio.ClosedResourceError, h11.ProtocolError)


@attrs.define
class RecordedRequest:
    """One request the server received, updated while it is answered.

    ``body`` is the parsed JSON body (``None`` if it was not JSON); ``headers`` has lower-case
    names. ``disconnected`` is set when the client went away before the response was complete,
    ``dropped`` when the server dropped the connection as scripted, ``finished`` when the
    response was sent in full.
    """

    index: int
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    reply: FakeReply | None = None
    finished: bool = False
    disconnected: bool = False
    dropped: bool = False

    @property
    def api_key(self) -> str | None:
        """The credential sent (``x-api-key``, or an ``Authorization: Bearer`` token)."""
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None

    @property
    def model(self) -> str | None:
        """The ``model`` the request named."""
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def system(self) -> Any:
        """The ``system`` prompt (string or blocks), ``None`` when absent."""
        return self.body.get("system") if isinstance(self.body, dict) else None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The ``messages`` list (empty when absent)."""
        return list(self.body.get("messages") or []) if isinstance(self.body, dict) else []

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The ``tools`` definitions (empty when absent)."""
        return list(self.body.get("tools") or []) if isinstance(self.body, dict) else []

    @property
    def last_user_text(self) -> str:
        """The text of the last user message (text blocks joined)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"))
        return ""

    @property
    def tool_results(self) -> list[dict[str, Any]]:
        """The ``tool_result`` blocks of the last user message."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                content = message.get("content")
                if isinstance(content, list):
                    return [
                        b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"
                    ]
                return []
        return []


@attrs.frozen
class FakeAnthropicStatistics:
    """A snapshot of the server's counters."""

    requests: int
    in_flight: int
    peak_in_flight: int
    completed: int
    disconnects: int
    dropped: int = 0


Responder: TypeAlias = FakeReply | Callable[[RecordedRequest], FakeReply]


class FakeAnthropic:
    """The server's state and scripting surface; start it with :func:`open_fake_anthropic` or
    ``await nursery.start(server.serve)``.

    ``default`` answers when the script is empty; ``latency``, ``event_delay`` and
    ``chunk_size`` are the defaults for replies that do not set them.
    """

    def __init__(
        self,
        default: Responder = DEFAULT_REPLY,
        *,
        latency: float = 0.0,
        event_delay: float = 0.0,
        chunk_size: int = 16,
    ) -> None:
        self.default = default
        self.latency = latency
        self.event_delay = event_delay
        self.chunk_size = chunk_size
        self.requests: list[RecordedRequest] = []
        self.errors: list[Exception] = []
        self.base_url = ""
        self._script: deque[FakeReply] = deque()
        self._in_flight = 0
        self._peak = 0
        self._completed = 0
        self._disconnects = 0
        self._ids = itertools.count(1)
        self._changed = trio.Event()
        # Message Batches routes and prompt-cache accounting: see _fake_batches, _fake_cache.
        self.batches = FakeBatches(self)
        self.cache = FakePromptCache()

    def script(self, *replies: FakeReply) -> None:
        """Queue ``replies`` for the next requests, in order."""
        self._script.extend(replies)

    def statistics(self) -> FakeAnthropicStatistics:
        """Counters: requests received, in flight now, peak in flight, completed, disconnects."""
        return FakeAnthropicStatistics(
            requests=len(self.requests),
            in_flight=self._in_flight,
            peak_in_flight=self._peak,
            completed=self._completed,
            disconnects=self._disconnects,
            dropped=sum(1 for request in self.requests if request.dropped),
        )

    def reset_peak(self) -> None:
        """Start measuring the peak of requests in flight again from now."""
        self._peak = self._in_flight

    async def wait_requests(self, count: int) -> None:
        """Return once at least ``count`` requests have been received."""
        while len(self.requests) < count:
            await self._changed.wait()

    async def wait_disconnects(self, count: int = 1) -> None:
        """Return once at least ``count`` clients disconnected before their response ended."""
        while self._disconnects < count:
            await self._changed.wait()

    async def wait_idle(self) -> None:
        """Return once no request is in flight (received but not yet answered or abandoned)."""
        while self._in_flight:
            await self._changed.wait()

    async def serve(
        self, *, port: int = 0, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED
    ) -> None:
        """Listen on 127.0.0.1 (``port`` 0 picks a free one) until cancelled; reports the base
        URL through ``task_status`` and :attr:`base_url`."""
        listeners = await trio.open_tcp_listeners(port, host="127.0.0.1")
        bound_port = listeners[0].socket.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{bound_port}"
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._serve_connection, listeners)
            task_status.started(self.base_url)

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def _serve_connection(self, stream: trio.SocketStream) -> None:
        connection = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_BODY)
        pending: list[bytes] = []
        try:
            while True:
                request = await _read_request(connection, stream, pending)
                if request is None:
                    return
                head, body = request
                await self._exchange(connection, stream, head, body, pending)
                if connection.our_state is not h11.DONE or connection.their_state is not h11.DONE:
                    return
                connection.start_next_cycle()
        except _DISCONNECTS:
            return
        except Exception as exc:  # never let one connection take the server down
            if not _is_disconnect(exc):
                self.errors.append(exc)
            return
        finally:
            await stream.aclose()

    async def _exchange(
        self,
        connection: h11.Connection,
        stream: trio.SocketStream,
        head: h11.Request,
        body: bytes,
        pending: list[bytes],
    ) -> None:
        record = RecordedRequest(
            index=len(self.requests),
            method=head.method.decode(),
            path=head.target.decode().split("?", 1)[0],
            headers={k.decode().lower(): v.decode("latin-1") for k, v in head.headers},
            body=_parse_json(body),
            received_at=trio.current_time(),
        )
        self.requests.append(record)
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        self._notify()
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_watch_disconnect, stream, record, nursery.cancel_scope, pending)
                try:
                    await self._respond(connection, stream, record)
                    record.finished = True
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    record.disconnected = True
                except _ConnectionDropped:
                    record.dropped = True
                nursery.cancel_scope.cancel()
        finally:
            self._in_flight -= 1
            if record.disconnected:
                self._disconnects += 1
            elif record.finished:
                self._completed += 1
            self._notify()
        if record.disconnected or record.dropped:
            raise trio.ClosedResourceError("connection abandoned")

    async def _respond(
        self, connection: h11.Connection, stream: trio.SocketStream, record: RecordedRequest
    ) -> None:
        async def send(event: Any) -> None:
            data = connection.send(event)
            if data:
                await stream.send_all(data)

        if is_batch_route(record.path):  # the Message Batches API: see _fake_batches
            await self.batches.respond(record, send)
            return
        if record.method in ("HEAD", "GET"):  # probes (the claude CLI sends some): no body
            status = 200 if record.path in _PROBE_PATHS else 404
            head = [("content-length", "0"), ("request-id", f"req_fake_{record.index + 1}")]
            await send(h11.Response(status_code=status, headers=head))
            await send(h11.EndOfMessage())
            return
        reply = self._choose_reply(record)
        record.reply = reply
        latency = self.latency if reply.latency is None else reply.latency
        if latency:
            await trio.sleep(latency)
        request_id = f"req_fake_{record.index + 1}"
        if reply.status != 200:
            extra = dict(reply.headers)
            if reply.retry_after is not None:
                extra["retry-after"] = _format_seconds(reply.retry_after)
            error_type = reply.error_type or _ERROR_TYPES.get(reply.status, "api_error")
            await _send_json(
                send,
                reply.status,
                _error_body(error_type, reply.error_message, request_id),
                request_id,
                extra,
            )
            return
        body = record.body
        usage = reply.usage or self.cache.account(body, _estimate_usage(body, reply))
        model = str(body.get("model"))
        blocks = self._blocks(reply)
        if not body.get("stream"):
            message = _message(f"msg_fake_{record.index + 1}", model, blocks, reply, usage)
            await _send_json(send, 200, message, request_id, dict(reply.headers))
            return
        headers = [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("request-id", request_id),
            *reply.headers.items(),
        ]
        await send(h11.Response(status_code=200, headers=headers))
        delay = self.event_delay if reply.event_delay is None else reply.event_delay
        chunk = reply.chunk_size or self.chunk_size
        events = _stream_events(f"msg_fake_{record.index + 1}", model, blocks, reply, usage, chunk)
        batch = bytearray()  # events of the same instant go out in one write

        async def flush() -> None:
            if batch:
                await send(h11.Data(data=bytes(batch)))
                batch.clear()

        for sent, (name, data) in enumerate(events):
            if reply.fail_after_events is not None and sent >= reply.fail_after_events:
                error_type = reply.error_type or "overloaded_error"
                batch += _sse("error", _error_body(error_type, reply.error_message, request_id))
                break
            if reply.stall_after_events is not None and sent >= reply.stall_after_events:
                await flush()
                await trio.sleep_forever()
            if reply.drop_after_events is not None and sent >= reply.drop_after_events:
                await flush()
                raise _ConnectionDropped
            if delay and sent:
                await flush()
                await trio.sleep(delay)
            batch += _sse(name, data)
        await flush()
        await send(h11.EndOfMessage())

    def _choose_reply(self, record: RecordedRequest) -> FakeReply:
        problem = _validate(record)
        if problem is not None:
            status, message = problem
            return FakeReply(status=status, error_message=message)
        if self._script:
            return self._script.popleft()
        if isinstance(self.default, FakeReply):
            return self.default
        try:
            return self.default(record)
        except Exception as exc:
            self.errors.append(exc)
            return FakeReply(status=500, error_message=f"fake responder raised {exc!r}")

    def _blocks(self, reply: FakeReply) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if reply.thinking is not None:
            blocks.append(
                {"type": "thinking", "thinking": reply.thinking, "signature": reply.signature}
            )
        if reply.text or not reply.tool_uses:
            blocks.append({"type": "text", "text": reply.text})
        for use in reply.tool_uses:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": use.id or f"toolu_fake_{next(self._ids)}",
                    "name": use.name,
                    "input": dict(use.input),
                }
            )
        return blocks


class _ConnectionDropped(Exception):
    """Raised inside the server to drop a connection as a reply scripts it."""


@asynccontextmanager
async def open_fake_anthropic(
    default: Responder = DEFAULT_REPLY,
    *,
    latency: float = 0.0,
    event_delay: float = 0.0,
    chunk_size: int = 16,
) -> AsyncIterator[FakeAnthropic]:
    """Run a :class:`FakeAnthropic` on a free port of 127.0.0.1 for the duration of the block.

    Leaving the block cancels the server, closing every connection still open.
    """
    server = FakeAnthropic(default, latency=latency, event_delay=event_delay, chunk_size=chunk_size)
    async with trio.open_nursery() as nursery:
        await nursery.start(server.serve)
        try:
            yield server
        finally:
            nursery.cancel_scope.cancel()


async def _read_request(
    connection: h11.Connection, stream: trio.SocketStream, pending: list[bytes]
) -> tuple[h11.Request, bytes] | None:
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            data = pending.pop(0) if pending else await stream.receive_some()
            connection.receive_data(data)
            continue
        if isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert head is not None
            return head, bytes(body)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


async def _watch_disconnect(
    stream: trio.SocketStream,
    record: RecordedRequest,
    scope: trio.CancelScope,
    pending: list[bytes],
) -> None:
    """Read while the response is written: end of file means the client went away. Bytes
    that arrive (a next request) are kept for the connection's next cycle."""
    try:
        while True:
            data = await stream.receive_some()
            if not data:
                break
            pending.append(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    if not record.finished:
        record.disconnected = True
        scope.cancel()


def _is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` (perhaps an exception group) is only the client going away or speaking
    bad HTTP, which ends a connection without being a fault of the server."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_is_disconnect(inner) for inner in exc.exceptions)
    return isinstance(exc, _DISCONNECTS)


async def _send_json(
    send: Callable[[Any], Any],
    status: int,
    payload: Any,
    request_id: str,
    headers: Mapping[str, str],
) -> None:
    data = json.dumps(payload).encode()
    head = [
        ("content-type", "application/json"),
        ("content-length", str(len(data))),
        ("request-id", request_id),
        *headers.items(),
    ]
    await send(h11.Response(status_code=status, headers=head))
    await send(h11.Data(data=data))
    await send(h11.EndOfMessage())


def _sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def main(argv: Sequence[str] | None = None) -> None:
    """Serve a fake Messages API until interrupted; the first output line is its base URL."""
    parser = argparse.ArgumentParser(
        prog="python -m openharness_actors.testing.fake_anthropic", description=main.__doc__
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds before each response head"
    )
    parser.add_argument(
        "--event-delay", type=float, default=0.0, help="seconds between stream events"
    )
    parser.add_argument("--chunk-size", type=int, default=16, help="characters per text delta")
    parser.add_argument(
        "--reply", default="Hello from the fake Messages API.", help="the reply text"
    )
    args = parser.parse_args(argv)
    server = FakeAnthropic(
        FakeReply(text=args.reply),
        latency=args.latency,
        event_delay=args.event_delay,
        chunk_size=args.chunk_size,
    )

    async def serve() -> None:
        async with trio.open_nursery() as nursery:
            base_url = await nursery.start(partial(server.serve, port=args.port))
            print(base_url, flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        trio.run(serve)


if __name__ == "__main__":
    main()
