"""HTTP plumbing of the service: requests, responses, error answers, JSON bodies and SSE.

This module owns the ASGI side of one request (reading a body within its size and time
limits, sending a response once), the error answers (:class:`HTTPError`, and
:func:`map_run_error`, the one table from a run's error to its HTTP answer), the validation
of JSON bodies (a 422 lists every problem), server-sent events, and the graceful drain of
the work requests hold at shutdown (:class:`Drain`). It knows no route, no workflow and no
key.
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
from collections.abc import (
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from typing import Any, TypeVar
from urllib.parse import parse_qs

import attrs
import structlog
import trio

from openharness_actors import (
    HarnessError,
    Signal,
    WorkflowCancelledError,
    WorkflowDefinitionError,
    WorkflowTimeoutError,
)

__all__ = [
    "SHUTDOWN_ANSWER",
    "Drain",
    "Exchange",
    "HTTPError",
    "Receive",
    "Request",
    "Response",
    "Scope",
    "Send",
    "is_json_media_type",
    "map_run_error",
    "object_fields",
    "read_json",
    "request_id",
    "signal_data",
    "sse_event",
    "until_disconnected",
    "validate_input",
    "validation_error",
]

T = TypeVar("T")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = structlog.get_logger("analyzer_service")

SHUTDOWN_ANSWER = (503, "shutting_down", "the service shut down before the run finished")


class HTTPError(Exception):
    """An error answer: status, a machine-readable type, a message, extra fields, headers."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        **fields: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.headers = tuple(headers)
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"error": {"type": self.kind, "message": str(self), **self.fields}}


def map_run_error(exc: Exception, timeout: float) -> HTTPError:
    """The HTTP answer for an error that ended a run: ``HarnessError`` 502, timeout 504,
    cancelled (the service shut down) 503, a definition error or any other 500."""
    run_id = getattr(getattr(exc, "partial", None), "run_id", None)
    if isinstance(exc, HarnessError):
        headers = [("retry-after", "5")] if exc.retryable else []
        return HTTPError(
            502,
            "harness_error",
            "the model call failed",
            headers=headers,
            code=exc.code,
            agent=exc.agent,
            retryable=exc.retryable,
            run_id=run_id,
        )
    if isinstance(exc, WorkflowTimeoutError):
        return HTTPError(
            504,
            "timeout",
            f"the analysis did not finish within {timeout:g}s",
            elapsed=round(exc.elapsed, 3),
            run_id=run_id,
        )
    if isinstance(exc, WorkflowCancelledError):
        return HTTPError(503, "cancelled", "the run was cancelled before it ended", run_id=run_id)
    if isinstance(exc, WorkflowDefinitionError):
        return HTTPError(500, "misconfigured", "the service cannot run the workflow")
    return HTTPError(500, "workflow_error", "the workflow failed", run_id=run_id)


class Request:
    """The parts of an ASGI HTTP request the service uses."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.method: str = scope["method"]
        self.path: str = scope["path"]
        self.query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        self.headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
        }
        self.client = "{}:{}".format(*scope["client"]) if scope.get("client") else None
        self.receive = receive

    async def body(self, limit: int, timeout: float) -> bytes:
        """The whole body; 413 past ``limit`` bytes, 408 when it takes over ``timeout``
        seconds in all (a client trickling its body cannot hold the connection forever)."""
        with trio.move_on_after(timeout):
            return await self._body(limit)
        raise HTTPError(
            408,
            "request_timeout",
            f"the body did not arrive within {timeout:g}s",
            headers=[("connection", "close")],
        )

    async def _body(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                raise HTTPError(400, "disconnected", "the client went away")
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise HTTPError(413, "too_large", f"the body exceeds {limit} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def wait_disconnect(self) -> None:
        """Return when the client goes away (the body must have been read)."""
        while (await self.receive())["type"] != "http.disconnect":
            pass


class Response:
    """Sends one response; remembers the status for the request log."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self.request_id = request_id
        self.status: int | None = None

    async def start(
        self, status: int, content_type: str, headers: Iterable[tuple[str, str]]
    ) -> None:
        self.status = status
        raw = [
            (b"content-type", content_type.encode()),
            (b"x-request-id", self.request_id.encode()),
            *((k.encode(), v.encode()) for k, v in headers),
        ]
        await self._send({"type": "http.response.start", "status": status, "headers": raw})

    async def chunk(self, data: bytes, *, more: bool = True) -> None:
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def json(self, status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
        data = json.dumps(body).encode() + b"\n"
        await self.start(status, "application/json", [*headers, ("content-length", str(len(data)))])
        await self.chunk(data, more=False)


@attrs.define(eq=False)
class Exchange:
    """One request being answered: what an endpoint gets."""

    request: Request
    response: Response
    context: dict[str, Any]
    """Fields for the request's log line (``run_id``, ``key_id``, ``error``)."""
    params: dict[str, str] = attrs.field(factory=dict)
    """The parts of the path its route captured (``run_id``)."""
    key_id: str = ""
    """The caller's key id, once authenticated."""


class Drain:
    """Graceful shutdown of the work requests hold: :meth:`begin` refuses new work, and the
    :meth:`scope` of each piece of work in flight is cancelled once the grace is up."""

    def __init__(self) -> None:
        self.draining = False
        self.answer_by = math.inf
        """When (trio time) work in flight is cancelled; infinite until shutdown begins."""
        self._scopes: set[trio.CancelScope] = set()

    def begin(self, grace: float | None = None) -> None:
        """Refuse new work; work in flight goes on — for at most ``grace`` seconds when
        given, after which its scope is cancelled."""
        self.draining = True
        if grace is not None:
            self.answer_by = trio.current_time() + grace
            for scope in self._scopes:
                scope.deadline = min(scope.deadline, self.answer_by)

    @contextlib.contextmanager
    def scope(self) -> Iterator[trio.CancelScope]:
        """A cancel scope for one piece of work, cancelled when the grace period is up."""
        scope = trio.CancelScope(deadline=self.answer_by)
        self._scopes.add(scope)
        try:
            with scope:
                yield scope
        finally:
            self._scopes.discard(scope)


def sse_event(event: str, data: Any, event_id: int | None = None) -> bytes:
    """One server-sent event (``data`` as one line of JSON)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/<x>+json``, parameters (charset) allowed."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def read_json(request: Request, limit: int, timeout: float) -> Any:
    """The request's JSON body (a ``GET``: its query, one value per name); 415 for a
    ``Content-Type`` other than JSON (none is read as JSON), 422 for a body that is not JSON
    or is nested too deeply, and what :meth:`Request.body` raises."""
    body = await request.body(limit, timeout)
    if request.method == "GET":
        return {k: v[-1] for k, v in request.query.items()}
    content_type = request.headers.get("content-type")
    if content_type is not None and not is_json_media_type(content_type):
        raise HTTPError(
            415,
            "unsupported_media_type",
            f"send the body as application/json, not {content_type[:80]!r}",
        )
    try:
        return json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HTTPError(422, "validation_error", f"the body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise HTTPError(
            422, "validation_error", "the body is not valid JSON: nested too deeply"
        ) from None


def validation_error(problems: Sequence[Mapping[str, str]]) -> HTTPError:
    """A 422 listing every problem (``field``: the body's field, ``""`` the whole body)."""
    summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems)
    return HTTPError(
        422, "validation_error", f"invalid request: {summary}", problems=[dict(p) for p in problems]
    )


def object_fields(data: Any, allowed: Iterable[str]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``data`` as a JSON object, and a problem for each field not in ``allowed``; a 422 when
    ``data`` is not an object at all."""
    if not isinstance(data, dict):
        raise validation_error([{"field": "", "message": "the body must be a JSON object"}])
    unknown = sorted(set(data) - set(allowed))
    return data, [{"field": field, "message": "unknown field"} for field in unknown]


def validate_input(data: Any, max_chars: int) -> str:
    """The ``input`` text of a request body (``{"input": "<text>"}``), or a 422 listing every
    problem."""
    body, problems = object_fields(data, ["input"])
    text = body.get("input")
    if "input" not in body:
        problems.append({"field": "input", "message": "is required"})
    elif not isinstance(text, str):
        problems.append(
            {"field": "input", "message": f"must be a string, not {type(text).__name__}"}
        )
    elif not text.strip():
        problems.append({"field": "input", "message": "must not be blank"})
    elif len(text) > max_chars:
        problems.append({"field": "input", "message": f"must be at most {max_chars} characters"})
    if problems:
        raise validation_error(problems)
    assert isinstance(text, str)
    return text


def signal_data(signal: Signal) -> dict[str, Any]:
    """The data of a signal's SSE event."""
    return {
        "seq": signal.seq,
        "run_id": signal.run_id,
        "agent": signal.agent,
        "payload": signal.payload,
    }


async def until_disconnected(request: Request, fn: Callable[[], Awaitable[T]]) -> T | None:
    """``await fn()``, cancelled if the client goes away first (then ``None``): a run belongs
    to its request, and nobody pays for an answer nobody will read.

    ``fn`` must not raise (errors would come out wrapped in an exception group). Responses
    are sent after this returns, outside the cancelled scope: cancelling a send midway would
    leave the server's side of the connection half closed.
    """
    result: T | None = None
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_cancel_on_disconnect, request, scope)
            result = await fn()
            nursery.cancel_scope.cancel()
    return None if scope.cancelled_caught else result


async def _cancel_on_disconnect(request: Request, scope: trio.CancelScope) -> None:
    await request.wait_disconnect()
    log.info("client_disconnected")
    scope.cancel()


def request_id(given: str | None) -> str:
    """The client's ``X-Request-Id`` when it is short and plain, else a fresh one."""
    if given and len(given) <= 64 and given.isascii() and given.replace("-", "").isalnum():
        return given
    return secrets.token_hex(8)
