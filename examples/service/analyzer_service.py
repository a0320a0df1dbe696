"""The product page's analyzer workflow behind an HTTP API: an ASGI app served on trio.

Run it (serves until SIGTERM or Ctrl-C; ``pip install 'openharness-actors[service]'``)::

    SERVICE_API_KEYS=secret-1,secret-2 python examples/service/analyzer_service.py --port 8000
    curl -s localhost:8000/analyze -H 'Authorization: Bearer secret-1' \
        -H 'Content-Type: application/json' -d '{"input": "hello"}'
    curl -sN localhost:8000/analyze/stream -H 'Authorization: Bearer secret-1' \
        -H 'Content-Type: application/json' -d '{"input": "hi"}'

``--self-test`` serves on a free port, sends a few requests to itself and exits. With
``ANTHROPIC_API_KEY`` set it calls Claude, otherwise a scripted harness answers.

Endpoints:

* ``POST /analyze`` — body ``{"input": "<text>"}``; runs the workflow and answers with the
  result and the run's metrics.
* ``POST /analyze/stream`` (or ``GET /analyze/stream?input=...``) — the same run streamed as
  server-sent events: ``text:*`` and lifecycle signals, then a ``result`` (or ``error``) event.
* ``GET /healthz`` — 200 while serving, 503 once shutdown has begun.
* ``GET /metrics`` — totals across runs (``MetricsReporter.snapshot()``), authenticated.

Errors: 401 missing or wrong API key (keys from ``SERVICE_API_KEYS``, compared in constant
time), 429 over the per-key rate (with ``Retry-After``), 408 the body did not arrive within
``SERVICE_BODY_TIMEOUT`` seconds (default 10, for the whole body), 413 body too large, 415 a
``Content-Type`` other than JSON (no ``Content-Type`` is read as JSON), 422 invalid body
(JSON nested too deeply included), 502 the model call failed (``HarnessError``), 504 the
run's timeout passed, 503 while draining. Every request is logged once, as a structured
event, with its request id.

On SIGTERM (or SIGINT) the server stops accepting connections and lets requests in flight
finish for part of ``--graceful-timeout`` seconds (half of it, or all but the last second when
it is longer than two); a run still going then is cancelled and its request answered 503
(``shutting_down``; a stream gets a closing ``error`` event) before the grace period ends and
connections close. The process then exits 0.

Startup problems (no keys, a bad ``SERVICE_*`` value, a port in use) are one line on stderr
and exit status 2, not a traceback.
"""

# test_docs: --self-test

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
import signal
import sys
import time
from collections.abc import (
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qs

import attrs
import structlog
import trio

from openharness_actors import (
    Harness,
    HarnessError,
    MetricsReporter,
    OpenHarnessError,
    Reporter,
    ScriptedHarness,
    Signal,
    WorkflowDefinitionError,
    WorkflowResult,
    WorkflowTimeoutError,
    compile_pattern,
    configure_logging,
    create_workflow,
    open_engine,
)

T = TypeVar("T")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

log = structlog.get_logger("analyzer_service")

# -- the workflow (the product page's analyzer) ------------------------------------------


@attrs.frozen
class State:
    input: str
    result: str | None = None


workflow = create_workflow(State)
analyzer = workflow.agent(
    prompt="Analyze: {{ state.input }}",
    activate_on=["workflow:start"],
    emits=["analysis:complete"],
    updates="result",
)
AGENTS = {"analyzer": analyzer}


def make_harness(*, delay: float = 0.0) -> Harness:
    """Claude when ``ANTHROPIC_API_KEY`` is set (shared by every request, so its concurrency
    and rate limits hold service-wide), else a scripted stand-in that streams its reply."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        from openharness_actors import AnthropicHarness

        return AnthropicHarness()  # the current Sonnet; key from ANTHROPIC_API_KEY

    def reply(request: Any) -> str:
        words = len(request.prompt.split()) - 1
        return f"(scripted) {words} words; nothing alarming found."

    return ScriptedHarness({"analyzer": reply}, delay=delay, chunk_size=8)


# -- settings, authentication, rate limiting ----------------------------------------------


@attrs.frozen
class Settings:
    """Service knobs; :meth:`from_env` reads them from ``SERVICE_*`` environment variables.

    ``rate`` is the sustained requests per second allowed per API key and ``burst`` how many
    may arrive at once (a token bucket); ``timeout`` bounds each run (seconds).
    """

    keys: tuple[str, ...]
    rate: float = 1.0
    burst: int = 10
    timeout: float = 60.0
    max_input_chars: int = 20_000
    max_body_bytes: int = 64 * 1024
    body_timeout: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Read the settings; a malformed value raises ``ValueError`` naming its variable."""
        keys = tuple(k.strip() for k in environ.get("SERVICE_API_KEYS", "").split(",") if k.strip())

        def number(name: str, default: str, kind: Callable[[str], T]) -> T:
            text = environ.get(name, default)
            try:
                return kind(text)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {text!r}") from None

        return cls(
            keys=keys,
            rate=number("SERVICE_RATE_PER_SECOND", "1.0", float),
            burst=number("SERVICE_RATE_BURST", "10", int),
            timeout=number("SERVICE_TIMEOUT", "60", float),
            body_timeout=number("SERVICE_BODY_TIMEOUT", "10", float),
        )


class KeyRing:
    """API keys, checked in constant time: the presented key's SHA-256 is compared with every
    known key's (always all of them), so neither timing nor length reveals a key."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._digests = [hashlib.sha256(k.encode()).digest() for k in keys]
        if not self._digests:
            raise ValueError("no API keys configured (set SERVICE_API_KEYS=key1,key2)")

    def identify(self, presented: str) -> str | None:
        """A stable, non-secret id for ``presented`` if it is a known key, else ``None``."""
        digest = hashlib.sha256(presented.encode()).digest()
        found = False
        for known in self._digests:
            found |= hmac.compare_digest(digest, known)
        return "key_" + digest.hex()[:8] if found else None


class RateLimiter:
    """A token bucket per key: ``burst`` tokens, refilled at ``rate`` per second.

    ``clock`` returns seconds (``trio.current_time`` by default).
    """

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] | None = None) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock or trio.current_time
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)

    def acquire(self, key: str) -> float:
        """Take a token for ``key``: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        tokens, updated = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - updated) * self._rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self._rate


# -- HTTP plumbing ------------------------------------------------------------------------


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
    """The HTTP answer for an error that ended a run (HarnessError 502, timeout 504)."""
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


def sse_event(event: str, data: Any, event_id: int | None = None) -> bytes:
    """One server-sent event (``data`` as one line of JSON)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n".encode()


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


# -- the application ----------------------------------------------------------------------


class AnalyzerService:
    """The ASGI application; build it with :func:`create_app`."""

    def __init__(
        self, harness: Harness, settings: Settings, reporters: Sequence[Reporter] = ()
    ) -> None:
        self.harness = harness
        self.settings = settings
        self.metrics = MetricsReporter()
        self._reporters = (self.metrics, *reporters)
        self._keys = KeyRing(settings.keys)
        self._limiter = RateLimiter(settings.rate, settings.burst)
        self.draining = False
        self.in_flight = 0
        self._runs: set[trio.CancelScope] = set()
        self._answer_by = math.inf

    def begin_shutdown(self, grace: float | None = None) -> None:
        """Refuse new work (503) and report unhealthy; requests in flight go on — for at most
        ``grace`` seconds when given, after which their runs are cancelled and they are
        answered 503."""
        self.draining = True
        if grace is not None:
            self._answer_by = trio.current_time() + grace
            for scope in self._runs:
                scope.deadline = min(scope.deadline, self._answer_by)

    @contextlib.contextmanager
    def _drainable(self) -> Iterator[trio.CancelScope]:
        """A cancel scope for one run, cancelled when a shutdown's grace period is up."""
        scope = trio.CancelScope(deadline=self._answer_by)
        self._runs.add(scope)
        try:
            with scope:
                yield scope
        finally:
            self._runs.discard(scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(Request(scope, receive), send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, request: Request, send: Send) -> None:
        request_id = _request_id(request.headers.get("x-request-id"))
        response = Response(send, request_id)
        started = time.perf_counter()
        context: dict[str, Any] = {}
        counted = int(request.path != "/healthz")  # in_flight counts work, not probes
        self.in_flight += counted
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            log.debug("request_started", method=request.method, path=request.path)
            try:
                await self._route(request, response, context)
            except HTTPError as error:
                headers = list(error.headers)
                if self.draining and ("connection", "close") not in headers:
                    headers.append(("connection", "close"))
                if response.status is None:
                    await response.json(error.status, error.body(), headers)
            except Exception:
                log.exception("request_failed")
                if response.status is None:
                    await response.json(500, HTTPError(500, "internal", "internal error").body())
            finally:
                self.in_flight -= counted
                status = response.status or 499  # 499: the client left before an answer
                level = "error" if status >= 500 else "info" if counted else "debug"
                getattr(log, level)(
                    "request_finished",
                    method=request.method,
                    path=request.path,
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    client=request.client,
                    **context,
                )

    async def _route(self, request: Request, response: Response, context: dict[str, Any]) -> None:
        route = (request.method, request.path)
        if request.path == "/healthz":
            if self.draining:
                await response.json(503, {"status": "draining"}, [("connection", "close")])
            else:
                await response.json(200, {"status": "ok", "in_flight": self.in_flight})
            return
        allowed = {
            "/analyze": ("POST",),
            "/analyze/stream": ("GET", "POST"),
            "/metrics": ("GET",),
        }.get(request.path)
        if allowed is None:
            raise HTTPError(404, "not_found", f"no route {request.path}")
        if request.method not in allowed:
            raise HTTPError(
                405,
                "method_not_allowed",
                f"use {' or '.join(allowed)}",
                headers=[("allow", ", ".join(allowed))],
            )
        if self.draining:
            raise HTTPError(503, "shutting_down", "the service is shutting down")
        context["key_id"] = key_id = self._authenticate(request)
        if route == ("GET", "/metrics"):
            await response.json(200, self.metrics.snapshot().to_dict())
            return
        wait = self._limiter.acquire(key_id)
        if wait:
            raise HTTPError(
                429,
                "rate_limited",
                "too many requests for this API key",
                headers=[("retry-after", str(max(1, math.ceil(wait))))],
                retry_after=round(wait, 3),
            )
        text = await self._read_input(request)
        if request.path == "/analyze":
            await self._analyze(text, request, response, context)
        else:
            await self._stream(text, request, response, context)

    def _authenticate(self, request: Request) -> str:
        presented = request.headers.get("x-api-key")
        authorization = request.headers.get("authorization", "")
        scheme, _, credentials = authorization.partition(" ")
        if presented is None and scheme.lower() == "bearer":
            presented = credentials.strip()
        challenge = [("www-authenticate", 'Bearer realm="analyzer"')]
        if not presented:
            raise HTTPError(
                401,
                "unauthorized",
                "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                headers=challenge,
            )
        key_id = self._keys.identify(presented)
        if key_id is None:
            raise HTTPError(401, "unauthorized", "invalid API key", headers=challenge)
        return key_id

    async def _read_input(self, request: Request) -> str:
        body = await request.body(self.settings.max_body_bytes, self.settings.body_timeout)
        if request.method == "GET":
            data: Any = {k: v[-1] for k, v in request.query.items()}
        else:
            content_type = request.headers.get("content-type")
            if content_type is not None and not is_json_media_type(content_type):
                raise HTTPError(
                    415,
                    "unsupported_media_type",
                    f"send the body as application/json, not {content_type[:80]!r}",
                )
            try:
                data = json.loads(body or b"null")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise HTTPError(
                    422, "validation_error", f"the body is not valid JSON: {exc}"
                ) from exc
            except RecursionError:
                raise HTTPError(
                    422, "validation_error", "the body is not valid JSON: nested too deeply"
                ) from None
        return validate_input(data, self.settings.max_input_chars)

    def _run_options(self, text: str) -> dict[str, Any]:
        return {
            "agents": AGENTS,
            "state": State(input=text),
            "harness": self.harness,
            "end_when": lambda s: s.result is not None,
            "timeout": self.settings.timeout,
            "reporters": self._reporters,
        }

    async def _analyze(
        self, text: str, request: Request, response: Response, context: dict[str, Any]
    ) -> None:
        async def run() -> WorkflowResult[State] | OpenHarnessError:
            try:
                return await workflow.run_reactive(**self._run_options(text))
            except OpenHarnessError as exc:
                return exc

        outcome = None
        with self._drainable() as drain:
            outcome = await until_disconnected(request, run)
        if drain.cancelled_caught:
            raise HTTPError(*SHUTDOWN_ANSWER)  # draining: _http adds "connection: close"
        if outcome is None:
            return
        if isinstance(outcome, OpenHarnessError):
            context["run_id"] = getattr(outcome.partial, "run_id", None)
            context["error"] = repr(outcome)
            raise map_run_error(outcome, self.settings.timeout) from outcome
        context["run_id"] = outcome.run_id
        await response.json(200, result_body(outcome, response.request_id))

    async def _stream(
        self, text: str, request: Request, response: Response, context: dict[str, Any]
    ) -> None:
        await response.start(
            200,
            "text/event-stream",
            [("cache-control", "no-cache"), ("x-accel-buffering", "no")],
        )
        final = None
        with self._drainable() as drain:
            final = await until_disconnected(
                request, lambda: self._stream_run(text, response, context)
            )
        if drain.cancelled_caught:
            error = HTTPError(*SHUTDOWN_ANSWER)
            final = sse_event("error", {"status": error.status, **error.body()})
        if final is not None:
            await response.chunk(final, more=False)

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
            error = map_run_error(exc, self.settings.timeout)
            return sse_event("error", {"status": error.status, **error.body()})
        return sse_event("result", result_body(result, response.request_id))


SHUTDOWN_ANSWER = (503, "shutting_down", "the service shut down before the analysis finished")


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or ``application/<x>+json``, parameters (charset) allowed."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def validate_input(data: Any, max_chars: int) -> str:
    """The ``input`` text of a request body, or a 422 listing every problem."""
    if not isinstance(data, dict):
        problem = {"field": "", "message": "the body must be a JSON object"}
        raise HTTPError(
            422, "validation_error", "invalid request: " + problem["message"], problems=[problem]
        )
    problems: list[dict[str, str]] = []
    for field in sorted(set(data) - {"input"}):
        problems.append({"field": field, "message": "unknown field"})
    text = data.get("input")
    if "input" not in data:
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
        summary = "; ".join(f"{p['field'] or 'body'}: {p['message']}" for p in problems)
        raise HTTPError(422, "validation_error", f"invalid request: {summary}", problems=problems)
    assert isinstance(text, str)
    return text


def result_body(result: WorkflowResult[State], request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "run_id": result.run_id,
        "status": result.status,
        "result": result.state.result,
        "metrics": result.metrics.to_dict(),
    }


def signal_data(signal: Signal) -> dict[str, Any]:
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


def _request_id(given: str | None) -> str:
    if given and len(given) <= 64 and given.isascii() and given.replace("-", "").isalnum():
        return given
    return secrets.token_hex(8)


def create_app(
    *,
    harness: Harness | None = None,
    keys: Iterable[str] | None = None,
    settings: Settings | None = None,
    reporters: Sequence[Reporter] = (),
    **overrides: Any,
) -> AnalyzerService:
    """Build the app. ``settings`` default to :meth:`Settings.from_env`; ``keys`` and other
    ``overrides`` (``rate``, ``burst``, ``timeout``, ...) replace fields of it. ``harness``
    defaults to :func:`make_harness`; ``reporters`` watch every run (a ``MetricsReporter``
    behind ``/metrics`` always does)."""
    base = settings or Settings.from_env()
    if keys is not None:
        overrides["keys"] = tuple(keys)
    return AnalyzerService(harness or make_harness(), attrs.evolve(base, **overrides), reporters)


# -- serving ------------------------------------------------------------------------------


async def wait_for_termination() -> int:
    """Return the number of the first SIGTERM or SIGINT received (main thread only)."""
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            return int(signum)
    raise AssertionError("unreachable")  # pragma: no cover


async def serve(
    app: AnalyzerService,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    graceful_timeout: float = 10.0,
    shutdown_trigger: Callable[[], Awaitable[object]] | None = None,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` with hypercorn's trio worker until ``shutdown_trigger`` returns (default:
    SIGTERM or SIGINT). Then the listeners close, ``app`` drains, and requests in flight get
    ``graceful_timeout`` seconds to finish before they are cancelled. Reports the bound URLs
    through ``task_status`` (so ``port=0`` picks a free port)."""
    try:
        import hypercorn.config
        import hypercorn.trio
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise SystemExit(
            "serving needs hypercorn: pip install 'openharness-actors[service]'"
        ) from exc
    config = hypercorn.config.Config()
    config.bind = [f"{host}:{port}"]
    config.graceful_timeout = graceful_timeout
    config.accesslog = None  # the app logs each request itself, with more context
    config.errorlog = logging.getLogger("hypercorn.error")
    trigger = shutdown_trigger or wait_for_termination

    async def shutdown() -> None:
        received = await trigger()
        # Answer what is still running before hypercorn cuts connections at the grace's end.
        app.begin_shutdown(grace=answer_within(graceful_timeout))
        log.info(
            "shutdown_requested",
            signal=signal.Signals(received).name if isinstance(received, int) else None,
            in_flight=app.in_flight,
            graceful_timeout=graceful_timeout,
        )

    async with trio.open_nursery() as nursery:
        asgi_app: Any = app  # hypercorn types scopes as TypedDicts; ours are plain mappings
        binds = await nursery.start(
            partial(hypercorn.trio.serve, asgi_app, config, shutdown_trigger=shutdown)
        )
        log.info("service_listening", urls=binds)
        task_status.started(binds)
    log.info("service_stopped", in_flight=app.in_flight)


def answer_within(graceful_timeout: float) -> float:
    """Seconds runs in flight get after a shutdown begins: half the grace period, or all but
    its last second when it is longer than two, leaving time to send their 503s."""
    return max(graceful_timeout / 2, graceful_timeout - 1.0)


async def self_test() -> None:
    """Serve on a free port, call the API a few times, shut down."""
    key = secrets.token_hex(16)
    app = create_app(keys=[key], harness=make_harness())
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            partial(serve, app, port=0, shutdown_trigger=stop.wait, graceful_timeout=2)
        )
        host, port = binds[0].removeprefix("http://").rsplit(":", 1)
        auth = {"authorization": f"Bearer {key}"}
        for method, path, body, headers in [
            ("GET", "/healthz", None, {}),
            ("POST", "/analyze", {"input": "The quick brown fox."}, auth),
            ("POST", "/analyze", {"input": "x"}, {}),
            ("POST", "/analyze", {"text": 3}, auth),
            ("POST", "/analyze/stream", {"input": "Stream this, please."}, auth),
        ]:
            status, text = await http_request(host, int(port), method, path, body, headers)
            if path.endswith("stream"):  # show the event names, and the text as it streamed
                events = [line[7:] for line in text.splitlines() if line.startswith("event: ")]
                text = " ".join(events)
            print(f"{method} {path} -> {status}\n  {text.strip()[:300]}")
        stop.set()
    print("self-test ok")


async def http_request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """A minimal HTTP/1.1 client (one request per connection), enough for the self-test."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}:{port}", "connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(payload)}"]
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all("\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
        received = bytearray()
        while chunk := await stream.receive_some(65536):
            received += chunk
    head, _, rest = bytes(received).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        rest = _dechunk(rest)
    return status, rest.decode()


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--graceful-timeout", type=float, default=10.0)
    parser.add_argument("--scripted-delay", type=float, default=0.0, help="offline reply delay")
    parser.add_argument("--self-test", action="store_true", help="call itself once and exit")
    args = parser.parse_args(argv)
    configure_logging()
    if args.self_test:
        trio.run(self_test)
        return
    started = False

    async def run() -> None:
        nonlocal started
        async with trio.open_nursery() as nursery:
            await nursery.start(
                partial(
                    serve,
                    app,
                    host=args.host,
                    port=args.port,
                    graceful_timeout=args.graceful_timeout,
                )
            )
            started = True

    try:
        app = create_app(harness=make_harness(delay=args.scripted_delay))
        trio.run(run)
    except (ValueError, OSError, BaseExceptionGroup) as exc:
        problem = None if started else startup_problem(exc)
        if problem is None:
            raise
        print(f"analyzer_service: cannot start: {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def startup_problem(error: BaseException) -> BaseException | None:
    """The configuration or OS error a failed startup comes down to (unwrapping the
    exception groups of the nurseries it came through), else ``None`` (a bug: show it)."""
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error if isinstance(error, ValueError | OSError) else None


if __name__ == "__main__":
    main()
