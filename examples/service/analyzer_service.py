"""The product page's analyzer workflow behind an HTTP API: an ASGI app served on trio.

Run it (serves until SIGTERM or Ctrl-C; ``pip install 'openharness-actors[service]'``)::

    SERVICE_API_KEYS=secret-1,secret-2 python examples/service/analyzer_service.py --port 8000
    curl -s localhost:8000/analyze -H 'Authorization: Bearer secret-1' \
        -H 'Content-Type: application/json' -d '{"input": "hello"}'
    curl -sN localhost:8000/analyze/stream -H 'Authorization: Bearer secret-1' \
        -H 'Content-Type: application/json' -d '{"input": "hi"}'
    curl -s localhost:8000/runs -H 'Authorization: Bearer secret-1' \
        -H 'Content-Type: application/json' -d '{"input": "announce 1.0"}'
    curl -s localhost:8000/runs/RUN_ID/signals -H 'Authorization: Bearer secret-1' \
        -H 'Content-Type: application/json' -d '{"name": "approval:granted"}'

``--self-test`` serves on a free port, sends a few requests to itself and exits. With
``ANTHROPIC_API_KEY`` set it calls Claude, otherwise a scripted harness answers.

Endpoints:

* ``POST /analyze`` — body ``{"input": "<text>"}``; runs the workflow and answers with the
  result and the run's metrics.
* ``POST /analyze/stream`` (or ``GET /analyze/stream?input=...``) — the same run streamed as
  server-sent events: ``text:*`` and lifecycle signals, then a ``result`` (or ``error``) event.
* ``POST /runs`` — body ``{"input": "<text>"}``; starts a run that asks a person (a drafter
  drafts, then the run waits for ``approval:granted`` or ``approval:denied``) and answers
  ``201`` with the run and its ``Location``.
* ``GET /runs/{id}`` — the run's ``status`` (``running``, ``waiting``, then ``terminated``
  once published, or ``failed``, ``timeout``, ``cancelled``), ``awaited`` patterns, ``state``.
* ``POST /runs/{id}/signals`` — body ``{"name": "approval:granted", "payload": {"note":
  "..."}}``: ``202`` with the signal id; ``409`` when the run is not waiting or has ended;
  ``422`` for a malformed body or a name outside ``approval:*``.
* ``GET /runs/{id}/events`` — the run's signals as server-sent events, from the start of its
  log (or after ``Last-Event-ID``) and live, then a ``result`` (or ``error``) event.
* ``GET /healthz`` — 200 while serving, 503 once shutdown has begun.
* ``GET /metrics`` — totals across runs (``MetricsReporter.snapshot()``), authenticated.

Every endpoint but ``/healthz`` needs an API key; a run belongs to the key that started it
(another key gets 404). The ``POST`` endpoints take a rate-limit token; the ``GET`` ones
(reads) do not. A ``/runs`` run waits for at most ``SERVICE_RUN_TIMEOUT`` seconds in all
(default 3600); at most ``SERVICE_MAX_RUNS`` (100) are live at once (503 ``too_many_runs``
past that); a finished one is kept ``SERVICE_KEEP_RUNS_SECONDS`` (600) seconds, and only the
last ``SERVICE_KEEP_RUNS`` (100), then its id is unknown (404). Runs live in memory: a
restarted service knows none of them.

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
connections close. ``/runs`` runs waiting for a person are cancelled at once (nobody can
answer them any more), the others with the requests in flight; their event streams end with
an ``error`` event. The process then exits 0.

Startup problems (no keys, a bad ``SERVICE_*`` value, a port in use) are one line on stderr
and exit status 2, not a traceback.

The modules next to this one each own one concern: ``_access`` (settings, keys, rate
limits), ``_http`` (requests, responses, error answers, JSON bodies, SSE), ``_workflows``
(the analyzer and the approval workflow), ``_analyze_api`` and ``_runs_api`` (the
endpoints), ``_runs`` (the long-lived engine and its runs), ``_client`` (the self-test's
client). This file is the app: routing, authentication, the request log, the lifespan,
serving, the self-test.
"""

# test_docs: --self-test

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import secrets
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import attrs
import structlog
import trio
from _access import KeyRing, RateLimiter, Settings
from _analyze_api import AnalyzeAPI
from _client import http_events, http_request
from _http import (
    Drain,
    Exchange,
    HTTPError,
    Receive,
    Request,
    Response,
    Scope,
    Send,
    request_id,
)
from _runs import RunBook
from _runs_api import RunsAPI
from _workflows import make_harness

from openharness_actors import Harness, MetricsReporter, Reporter, configure_logging

__all__ = [
    "AnalyzerService",
    "RateLimiter",
    "Settings",
    "answer_within",
    "create_app",
    "main",
    "serve",
]

log = structlog.get_logger("analyzer_service")

Endpoint = Callable[[Exchange], Awaitable[None]]
Call = Callable[..., Awaitable[Any]]


@attrs.frozen
class Route:
    """A path (a regular expression; its groups are the endpoint's ``params``), an endpoint
    per method, and whether a call takes a rate-limit token."""

    path: re.Pattern[str]
    methods: Mapping[str, Endpoint]
    limited: bool = True


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
        self._drain = Drain()
        self.in_flight = 0
        self.runs = RunBook(
            max_live=settings.max_runs,
            keep=settings.keep_finished,
            keep_for=settings.keep_finished_for,
        )
        analyze = AnalyzeAPI(harness, settings, self._reporters, self._drain)
        runs = RunsAPI(self.runs, harness, settings, self._drain)
        run = r"/runs/(?P<run_id>[^/]{1,200})"
        self._routes = (
            Route(re.compile("/analyze"), {"POST": analyze.analyze}),
            Route(re.compile("/analyze/stream"), {"GET": analyze.stream, "POST": analyze.stream}),
            Route(re.compile("/metrics"), {"GET": self._metrics}, limited=False),
            Route(re.compile("/runs"), {"POST": runs.create}),
            Route(re.compile(run), {"GET": runs.show}, limited=False),
            Route(re.compile(run + "/signals"), {"POST": runs.signal}),
            Route(re.compile(run + "/events"), {"GET": runs.events}, limited=False),
        )

    @property
    def draining(self) -> bool:
        return self._drain.draining

    def begin_shutdown(self, grace: float | None = None) -> None:
        """Refuse new work (503) and report unhealthy; requests in flight go on — for at most
        ``grace`` seconds when given, after which their runs are cancelled and they are
        answered 503. ``/runs`` runs that wait are cancelled now, the others with the
        requests (see ``_runs``)."""
        self._drain.begin(grace)
        self.runs.begin_shutdown(self._drain.answer_by)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(Request(scope, receive), send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """The server's life: the run book's engine is open from startup to shutdown, which
        cancels the ``/runs`` runs still live (the server has closed its connections by
        then)."""
        while (await receive())["type"] != "lifespan.startup":
            pass
        async with self.runs.open(reporters=self._reporters):
            await send({"type": "lifespan.startup.complete"})
            while (await receive())["type"] != "lifespan.shutdown":
                pass
            live = self.runs.live
        log.info("runs_closed", cancelled=live)
        await send({"type": "lifespan.shutdown.complete"})

    async def _http(self, request: Request, send: Send) -> None:
        response = Response(send, request_id(request.headers.get("x-request-id")))
        started = time.perf_counter()
        context: dict[str, Any] = {}
        counted = int(request.path != "/healthz")  # in_flight counts work, not probes
        self.in_flight += counted
        with structlog.contextvars.bound_contextvars(request_id=response.request_id):
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
        if request.path == "/healthz":
            if self.draining:
                await response.json(503, {"status": "draining"}, [("connection", "close")])
            else:
                await response.json(200, {"status": "ok", "in_flight": self.in_flight})
            return
        route, params = self._resolve(request.path)
        endpoint = route.methods.get(request.method)
        if endpoint is None:
            allowed = tuple(route.methods)
            raise HTTPError(
                405,
                "method_not_allowed",
                f"use {' or '.join(allowed)}",
                headers=[("allow", ", ".join(allowed))],
            )
        if self.draining:
            raise HTTPError(503, "shutting_down", "the service is shutting down")
        context["key_id"] = key_id = self._authenticate(request)
        if route.limited:
            wait = self._limiter.acquire(key_id)
            if wait:
                raise HTTPError(
                    429,
                    "rate_limited",
                    "too many requests for this API key",
                    headers=[("retry-after", str(max(1, math.ceil(wait))))],
                    retry_after=round(wait, 3),
                )
        await endpoint(Exchange(request, response, context, params, key_id))

    def _resolve(self, path: str) -> tuple[Route, dict[str, str]]:
        """The route of ``path`` and what its groups captured, or a 404."""
        for route in self._routes:
            matched = route.path.fullmatch(path)
            if matched is not None:
                return route, matched.groupdict()
        raise HTTPError(404, "not_found", f"no route {path}")

    async def _metrics(self, x: Exchange) -> None:
        await x.response.json(200, self.metrics.snapshot().to_dict())

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


def create_app(
    *,
    harness: Harness | None = None,
    keys: Iterable[str] | None = None,
    settings: Settings | None = None,
    reporters: Sequence[Reporter] = (),
    **overrides: Any,
) -> AnalyzerService:
    """Build the app. ``settings`` default to :meth:`Settings.from_env`; ``keys`` and other
    ``overrides`` (``rate``, ``burst``, ``timeout``, ``run_timeout``, ``max_runs``, ...)
    replace fields of it. ``harness`` defaults to :func:`make_harness`; ``reporters`` watch
    every run (a ``MetricsReporter`` behind ``/metrics`` always does)."""
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
    """Serve on a free port, call the API a few times (a run that asks a person included),
    shut down."""
    key = secrets.token_hex(16)
    app = create_app(keys=[key], harness=make_harness())
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            partial(serve, app, port=0, shutdown_trigger=stop.wait, graceful_timeout=2)
        )
        host, port = binds[0].removeprefix("http://").rsplit(":", 1)
        auth = {"authorization": f"Bearer {key}"}

        async def call(
            method: str, path: str, body: Any = None, headers: Mapping[str, str] = auth
        ) -> Any:
            status, text = await http_request(host, int(port), method, path, body, headers)
            if "event: " in text:  # a stream: show the event names
                events = [line[7:] for line in text.splitlines() if line.startswith("event: ")]
                text = " ".join(events)
            print(f"{method} {path} -> {status}\n  {text.strip()[:300]}")
            return json.loads(text) if text.startswith("{") else text

        await call("GET", "/healthz", headers={})
        await call("POST", "/analyze", {"input": "The quick brown fox."})
        await call("POST", "/analyze", {"input": "x"}, headers={})
        await call("POST", "/analyze", {"text": 3})
        await call("POST", "/analyze/stream", {"input": "Stream this, please."})
        with trio.fail_after(30):
            await self_test_runs(host, int(port), auth, call)
        stop.set()
    print("self-test ok")


async def self_test_runs(host: str, port: int, auth: Mapping[str, str], call: Call) -> None:
    """A run that asks a person: start it, follow its events; at each wait read it and
    decide (deny once, then grant); then look at the ended run and answer it too late."""
    run = await call("POST", "/runs", {"input": "Announce the release"})
    path = run["links"]["self"]
    decisions = [
        ("approval:denied", {"reason": "say when"}),
        ("approval:granted", {"note": "ship it"}),
    ]
    seen: list[str] = []

    async def on_event(name: str, data: Any) -> None:
        seen.append(name)
        if name == "workflow:waiting":  # a person reads the run and decides
            await call("GET", path)
            if len(decisions) == 2:  # engine names are not for outsiders: 422
                await call("POST", f"{path}/signals", {"name": "workflow:end"})
            decision, payload = decisions.pop(0)
            await call("POST", f"{path}/signals", {"name": decision, "payload": payload})

    status = await http_events(host, port, f"{path}/events", auth, on_event)
    shown = [name for name in seen if not name.startswith(("text:", "harness:", "state:"))]
    print(f"GET {path}/events -> {status}\n  {' '.join(shown)}")
    await call("GET", path)
    await call("POST", f"{path}/signals", {"name": "approval:granted"})  # 409: it has ended


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
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
