"""The HTTP service example, exercised over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import structlog
import trio
import trio.testing

from openharness_actors import HarnessError, HarnessRequest, ScriptedHarness

if TYPE_CHECKING:
    import httpx
else:
    httpx = pytest.importorskip("httpx")
pytest.importorskip("hypercorn")

ROOT = Path(__file__).resolve().parent.parent
SERVICE_DIR = ROOT / "examples" / "service"
sys.path.insert(0, str(SERVICE_DIR))
import _runs as runs_book  # noqa: E402
import _workflows as workflows  # noqa: E402
import analyzer_service as service  # noqa: E402

KEY, OTHER_KEY = "test-key-1", "test-key-2"
AUTH = {"authorization": f"Bearer {KEY}"}


def echo(request: HarnessRequest) -> str:
    return f"analysis of [{request.prompt.removeprefix('Analyze: ')}]"


@asynccontextmanager
async def serving(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a free port in this test's nursery, and a client for it."""
    options.setdefault("harness", ScriptedHarness({"analyzer": echo}, chunk_size=4))
    options.setdefault("keys", [KEY, OTHER_KEY])
    app = service.create_app(settings=service.Settings(keys=()), **options)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            partial(service.serve, app, port=0, shutdown_trigger=stop.wait, graceful_timeout=1)
        )
        async with httpx.AsyncClient(base_url=binds[0], timeout=10) as client:
            yield client
        stop.set()


async def test_good_request_returns_result_and_metrics() -> None:
    """A valid request gets 200 with the analysis, the run id and the run's metrics."""
    async with serving() as client:
        response = await client.post("/analyze", json={"input": "hello world"}, headers=AUTH)
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == "analysis of [hello world]"
    assert body["status"] == "terminated" and body["run_id"].startswith("run_")
    assert body["metrics"]["activations"] == 1
    assert body["metrics"]["agents"]["analyzer"]["completed"] == 1
    assert body["metrics"]["signals_by_name"]["workflow:end"] == 1
    assert response.headers["x-request-id"] == body["request_id"]


async def test_missing_and_bad_keys_get_401() -> None:
    """No key and a wrong key both get 401 with a Bearer challenge; X-API-Key also works."""
    async with serving() as client:
        missing = await client.post("/analyze", json={"input": "x"})
        wrong = await client.post(
            "/analyze", json={"input": "x"}, headers={"authorization": "Bearer nope"}
        )
        other = await client.post("/analyze", json={"input": "x"}, headers={"x-api-key": OTHER_KEY})
    assert missing.status_code == 401 and "missing API key" in missing.json()["error"]["message"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "invalid API key"
    assert other.status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "the body is not valid JSON"),
        (b"[1, 2]", "the body must be a JSON object"),
        (b"{}", "input: is required"),
        (b'{"input": 3}', "input: must be a string, not int"),
        (b'{"input": "   "}', "input: must not be blank"),
        (b'{"input": "x", "extra": 1}', "extra: unknown field"),
        (json.dumps({"input": "x" * 101}).encode(), "input: must be at most 100 characters"),
    ],
)
async def test_invalid_body_gets_422_with_useful_message(body: bytes, message: str) -> None:
    """Invalid bodies get 422 saying what is wrong, and no run starts."""
    harness = ScriptedHarness({"analyzer": echo})
    async with serving(harness=harness, max_input_chars=100) as client:
        response = await client.post(
            "/analyze", content=body, headers={**AUTH, "content-type": "application/json"}
        )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "validation_error" and message in error["message"]
    assert harness.count() == 0


async def test_oversized_body_gets_413() -> None:
    """A body over the size limit is refused before it is parsed."""
    async with serving(max_body_bytes=1000) as client:
        response = await client.post("/analyze", json={"input": "x" * 2000}, headers=AUTH)
    assert response.status_code == 413


async def test_rate_limit_per_key_with_retry_after() -> None:
    """Past its burst a key gets 429 with Retry-After; another key is unaffected."""
    async with serving(burst=2, rate=0.01) as client:
        codes = [
            (await client.post("/analyze", json={"input": "x"}, headers=AUTH)).status_code
            for _ in range(3)
        ]
        limited = await client.post("/analyze", json={"input": "x"}, headers=AUTH)
        other = await client.post("/analyze", json={"input": "x"}, headers={"x-api-key": OTHER_KEY})
    assert codes == [200, 200, 429]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 100
    assert limited.json()["error"]["type"] == "rate_limited"
    assert other.status_code == 200


def test_rate_limiter_refills_over_time() -> None:
    """The token bucket refills at its rate and reports the wait until the next token."""
    now = [0.0]
    limiter = service.RateLimiter(rate=2.0, burst=2, clock=lambda: now[0])
    assert [limiter.acquire("k"), limiter.acquire("k")] == [0.0, 0.0]
    assert limiter.acquire("k") == pytest.approx(0.5)
    now[0] = 0.5
    assert limiter.acquire("k") == 0.0
    assert limiter.acquire("other") == 0.0


async def test_harness_failure_maps_to_502() -> None:
    """A failing model call gets 502 naming the agent and the error code, not a 500."""
    harness = ScriptedHarness({"analyzer": HarnessError("overloaded", code="529", retryable=True)})
    async with serving(harness=harness) as client:
        response = await client.post("/analyze", json={"input": "x"}, headers=AUTH)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error == {**error, "type": "harness_error", "agent": "analyzer", "code": "529"}
    assert error["run_id"].startswith("run_") and response.headers["retry-after"] == "5"


async def test_timeout_maps_to_504() -> None:
    """A run past the per-request timeout gets 504 with the elapsed time."""
    harness = ScriptedHarness({"analyzer": echo}, delay=30.0)
    async with serving(harness=harness, timeout=0.2) as client:
        with trio.fail_after(5):
            response = await client.post("/analyze", json={"input": "x"}, headers=AUTH)
    assert response.status_code == 504
    error = response.json()["error"]
    assert error["type"] == "timeout" and error["elapsed"] >= 0.2


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


async def test_sse_streams_deltas_in_order_then_result() -> None:
    """The stream sends lifecycle and text deltas in broker order, then the result."""
    async with (
        serving() as client,
        client.stream(
            "POST", "/analyze/stream", json={"input": "stream me"}, headers=AUTH
        ) as response,
    ):
        assert response.headers["content-type"] == "text/event-stream"
        text = "".join([chunk async for chunk in response.aiter_text()])
    events = parse_sse(text)
    names = [name for name, _ in events]
    assert names[0] == "workflow:start" and names[-2:] == ["workflow:end", "result"]
    assert names.index("agent:activated") < names.index("text:delta")
    seqs = [data["seq"] for _, data in events[:-1]]
    assert seqs == sorted(seqs)
    deltas = [data["payload"]["content"] for name, data in events if name == "text:delta"]
    assert len(deltas) > 3 and "".join(deltas) == "analysis of [stream me]"
    assert events[-1][1]["result"] == "analysis of [stream me]"
    assert "state:result:changed" not in names  # only text and lifecycle are streamed


async def test_sse_get_with_query_and_error_event() -> None:
    """GET /analyze/stream takes the input as a query; a failed run ends with an error event."""
    harness = ScriptedHarness({"analyzer": HarnessError("down")})
    async with serving(harness=harness) as client:
        response = await client.get("/analyze/stream", params={"input": "q"}, headers=AUTH)
    events = parse_sse(response.text)
    assert events[-1][0] == "error" and events[-1][1]["status"] == 502
    assert "agent:failed" in [name for name, _ in events]


async def send_and_leave(client: Any, path: str, until: bytes = b"") -> None:
    """A raw request on its own connection, closed once the run has started and the response
    holds ``until``: a client that goes away."""
    host, port = str(client.base_url).removeprefix("http://").rstrip("/").split(":")
    body = b'{"input": "x"}'
    request = (
        f"POST {path} HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {KEY}"
        f"\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode()
    async with await trio.open_tcp_stream(host, int(port)) as stream:
        await stream.send_all(request + body)
        received = b""
        while until not in received:
            received += await stream.receive_some(65536)
        await wait_metrics(client, lambda m: m["runs_running"] == 1)


async def wait_metrics(client: Any, condition: Any) -> dict[str, Any]:
    with trio.fail_after(5):
        while True:
            metrics: dict[str, Any] = (await client.get("/metrics", headers=AUTH)).json()
            if condition(metrics):
                return metrics
            await trio.sleep(0.02)


@pytest.mark.parametrize(
    ("path", "until"), [("/analyze", b""), ("/analyze/stream", b"event: agent:activated")]
)
async def test_client_disconnect_cancels_its_run(path: str, until: bytes) -> None:
    """A client leaving mid-run cancels its run (the run belongs to the request)."""
    harness = ScriptedHarness({"analyzer": echo}, delay=30.0)
    with structlog.testing.capture_logs() as logs:
        async with serving(harness=harness) as client:
            await send_and_leave(client, path, until)
            metrics = await wait_metrics(client, lambda m: m["runs_running"] == 0)
    assert metrics["runs_by_status"] == {"cancelled": 1}
    finished = [e for e in logs if e["event"] == "request_finished" and e["path"] == path]
    assert finished[0]["status"] == (499 if path == "/analyze" else 200)


async def test_concurrent_requests_are_isolated() -> None:
    """Parallel requests each get their own run and result; streams carry only their run."""

    async def slow_echo(request: HarnessRequest) -> str:
        await trio.sleep(0.01 * (len(request.prompt) % 7))
        return echo(request)

    harness = ScriptedHarness({"analyzer": slow_echo}, chunk_size=3)
    results: dict[str, dict[str, Any]] = {}
    streams: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    async with serving(harness=harness, burst=100) as client:

        async def post(text: str) -> None:
            response = await client.post("/analyze", json={"input": text}, headers=AUTH)
            results[text] = response.json()

        async def stream(text: str) -> None:
            async with client.stream(
                "POST", "/analyze/stream", json={"input": text}, headers=AUTH
            ) as response:
                streams[text] = parse_sse("".join([c async for c in response.aiter_text()]))

        async with trio.open_nursery() as nursery:
            for i in range(12):
                nursery.start_soon(post, f"request {i} " + "x" * i)
            for i in range(4):
                nursery.start_soon(stream, f"stream {i} " + "y" * i)
    assert all(body["result"] == f"analysis of [{text}]" for text, body in results.items())
    assert len({body["run_id"] for body in results.values()}) == 12
    for text, events in streams.items():
        run_ids = {data["run_id"] for name, data in events if name != "result"}
        assert len(run_ids) == 1
        deltas = "".join(d["payload"]["content"] for n, d in events if n == "text:delta")
        assert deltas == f"analysis of [{text}]"


async def test_health_metrics_and_routing() -> None:
    """/healthz is open; /metrics needs a key and totals runs; unknown routes 404, 405."""
    async with serving() as client:
        health = await client.get("/healthz")
        await client.post("/analyze", json={"input": "x"}, headers=AUTH)
        closed = await client.get("/metrics")
        metrics = await client.get("/metrics", headers=AUTH)
        missing = await client.get("/nope")
        wrong = await client.get("/analyze", headers=AUTH)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert closed.status_code == 401
    assert metrics.json()["runs_by_status"] == {"terminated": 1}
    assert missing.status_code == 404
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"


async def test_request_log_is_structured_and_never_holds_the_key() -> None:
    """Each request logs one event with status, duration, key id and run id, never the key."""
    with structlog.testing.capture_logs() as logs:
        async with serving() as client:
            await client.post("/analyze", json={"input": "x"}, headers=AUTH)
            await client.post("/analyze", json={"input": "x"})
    finished = [e for e in logs if e["event"] == "request_finished"]
    assert [e["status"] for e in finished] == [200, 401]
    ok = finished[0]
    assert ok["method"] == "POST" and ok["path"] == "/analyze" and ok["duration_ms"] > 0
    assert ok["key_id"].startswith("key_") and ok["run_id"].startswith("run_")
    assert KEY not in repr(logs)


def test_app_refuses_to_start_without_keys() -> None:
    """With no API keys configured the app refuses to start instead of serving openly."""
    with pytest.raises(ValueError, match="no API keys"):
        service.create_app(settings=service.Settings(keys=()), harness=ScriptedHarness())


# -- graceful shutdown in a real process ---------------------------------------------------


class Server:
    """The service as a subprocess; reads its JSON log lines from stderr."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        self.events: list[dict[str, Any]] = []
        self._buffer = b""

    async def wait_for(self, event: str) -> dict[str, Any]:
        assert self.process.stderr is not None
        while True:
            for entry in self.events:
                if entry.get("event") == event:
                    return entry
            chunk = await self.process.stderr.receive_some(65536)
            if not chunk:
                raise AssertionError(f"server exited before {event!r}: {self.events}")
            self._buffer += chunk
            *lines, self._buffer = self._buffer.split(b"\n")
            self.events.extend(json.loads(line) for line in lines if line.strip())


@asynccontextmanager
async def server_process(*args: str) -> AsyncIterator[tuple[Server, str]]:
    env = {
        **{k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"},
        "PYTHONPATH": str(ROOT),
        "SERVICE_API_KEYS": KEY,
        "LOG_LEVEL": "debug",
    }
    command = [sys.executable, str(SERVICE_DIR / "analyzer_service.py"), "--port", "0", *args]
    async with trio.open_nursery() as nursery:
        process = await nursery.start(
            partial(trio.run_process, command, stderr=subprocess.PIPE, env=env, check=False)
        )
        server = Server(process)
        try:
            with trio.fail_after(20):
                listening = await server.wait_for("service_listening")
            yield server, listening["urls"][0]
        finally:
            if process.returncode is None:
                process.kill()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sigterm_lets_in_flight_request_finish() -> None:
    """SIGTERM during a request: the request still gets its 200, then the process exits 0."""
    async with server_process("--scripted-delay", "1.0", "--graceful-timeout", "10") as (
        server,
        url,
    ):
        responses: list[Any] = []

        async def request() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=20) as client:
                responses.append(await client.post("/analyze", json={"input": "x"}, headers=AUTH))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(request)
            with trio.fail_after(20):
                await server.wait_for("run_started")
                server.process.send_signal(signal.SIGTERM)
                shutdown = await server.wait_for("shutdown_requested")
        assert shutdown["in_flight"] == 1 and shutdown["signal"] == "SIGTERM"
        assert responses[0].status_code == 200
        with trio.fail_after(10):
            await server.wait_for("service_stopped")
            assert await server.process.wait() == 0
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=url) as client:
                await client.get("/healthz")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sigterm_cuts_requests_after_the_grace_period() -> None:
    """A request longer than a short grace period is answered 503 (its run cancelled) before
    connections close, rather than cut; the process still exits 0, in time."""
    async with server_process("--scripted-delay", "60", "--graceful-timeout", "2") as (
        server,
        url,
    ):
        outcome: list[BaseException] = []
        responses: list[Any] = []

        async def request() -> None:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                try:
                    responses.append(
                        await client.post("/analyze", json={"input": "x"}, headers=AUTH)
                    )
                except httpx.HTTPError as exc:
                    outcome.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(request)
            with trio.fail_after(20):
                await server.wait_for("run_started")
            start = trio.current_time()
            server.process.send_signal(signal.SIGTERM)
            with trio.fail_after(10):
                assert await server.process.wait() == 0
            assert trio.current_time() - start < 5
        assert not outcome, outcome  # answered, not cut
        (response,) = responses
        assert response.status_code == 503
        assert response.json()["error"]["type"] == "shutting_down"
        assert response.headers["connection"] == "close"


# -- hardening: bodies, content types, shutdown, startup (issue 14, item 6) ---------------


async def test_deeply_nested_json_gets_422_not_500() -> None:
    """JSON nested 5,000 levels deep is a 422 validation error, not a 500 with a traceback."""
    harness = ScriptedHarness({"analyzer": echo})
    nested = b'{"input": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    async with serving(harness=harness, max_body_bytes=100_000) as client:
        bare = await client.post(
            "/analyze", content=b"[" * 5000 + b"]" * 5000, headers={**AUTH, **JSON}
        )
        inside = await client.post("/analyze", content=nested, headers={**AUTH, **JSON})
    assert bare.status_code == 422 and "nested too deeply" in bare.json()["error"]["message"]
    assert inside.status_code == 422
    assert harness.count() == 0


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("application/json; charset=utf-8", 200),
        ("application/vnd.api+json", 200),
    ],
)
async def test_non_json_content_type_gets_415(content_type: str, status: int) -> None:
    """A POST whose Content-Type is not JSON gets 415 and starts no run; JSON types pass."""
    harness = ScriptedHarness({"analyzer": echo})
    async with serving(harness=harness) as client:
        response = await client.post(
            "/analyze", content=b'{"input": "x"}', headers={**AUTH, "content-type": content_type}
        )
    assert response.status_code == status
    if status == 415:
        assert response.json()["error"]["type"] == "unsupported_media_type"
    assert harness.count() == (status == 200)


async def test_slow_body_is_cut_by_the_body_timeout() -> None:
    """An authenticated client that sends part of its body and stalls gets 408 after the
    body read timeout, and its connection is closed."""
    async with serving(body_timeout=0.3) as client:
        host, port = str(client.base_url).removeprefix("http://").rstrip("/").split(":")
        head = (
            f"POST /analyze HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {KEY}\r\n"
            "content-type: application/json\r\ncontent-length: 100\r\n\r\n"
        ).encode()
        started = trio.current_time()
        async with await trio.open_tcp_stream(host, int(port)) as stream:
            await stream.send_all(head + b'{"inp')
            received = b""
            with trio.fail_after(5):
                while chunk := await stream.receive_some(65536):
                    received += chunk
        elapsed = trio.current_time() - started
    assert received.startswith(b"HTTP/1.1 408")
    assert b"request_timeout" in received
    assert 0.3 <= elapsed < 5


@asynccontextmanager
async def stoppable(**options: Any) -> AsyncIterator[tuple[httpx.AsyncClient, trio.Event]]:
    """Like ``serving``, but the test decides when shutdown begins (``stop.set()``)."""
    options.setdefault("keys", [KEY])
    app = service.create_app(settings=service.Settings(keys=()), **options)
    stop = trio.Event()
    async with trio.open_nursery() as nursery:
        binds = await nursery.start(
            partial(service.serve, app, port=0, shutdown_trigger=stop.wait, graceful_timeout=2)
        )
        async with httpx.AsyncClient(base_url=binds[0], timeout=10) as client:
            yield client, stop
        stop.set()


async def test_shutdown_answers_in_flight_requests_with_503() -> None:
    """With a run longer than the grace period, shutdown answers /analyze 503 and ends a
    stream with a 503 error event, within the grace period, instead of closing connections."""
    harness = ScriptedHarness({"analyzer": echo}, delay=60.0)
    answers: dict[str, Any] = {}
    async with stoppable(harness=harness) as (client, stop):

        async def analyze() -> None:
            answers["analyze"] = await client.post("/analyze", json={"input": "x"}, headers=AUTH)

        async def stream() -> None:
            async with client.stream(
                "POST", "/analyze/stream", json={"input": "y"}, headers=AUTH
            ) as response:
                answers["stream"] = "".join([c async for c in response.aiter_text()])

        with trio.fail_after(10):
            async with trio.open_nursery() as nursery:
                nursery.start_soon(analyze)
                nursery.start_soon(stream)
                await wait_metrics(client, lambda m: m["runs_running"] == 2)
                started = trio.current_time()
                stop.set()
            elapsed = trio.current_time() - started
    assert answers["analyze"].status_code == 503
    assert answers["analyze"].json()["error"]["type"] == "shutting_down"
    name, data = parse_sse(answers["stream"])[-1]
    assert name == "error" and data["status"] == 503
    assert 1.0 <= elapsed < 2.0  # answered once half the grace period is over, before its end


def test_answer_within_leaves_room_before_the_grace_ends() -> None:
    """Runs get half a short grace period, all but its last second of a long one."""
    assert service.answer_within(0.5) == 0.25
    assert service.answer_within(2) == 1.0
    assert service.answer_within(10) == 9.0


def start_service(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SERVICE_", "ANTHROPIC"))}
    return subprocess.run(
        [sys.executable, str(SERVICE_DIR / "analyzer_service.py"), *args],
        env={**environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_startup_errors_are_one_line() -> None:
    """No keys, a malformed setting and a port in use each exit 2 with one line on stderr
    naming the problem, not a traceback."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        cases = [
            ({}, "no API keys configured"),
            ({"SERVICE_API_KEYS": KEY, "SERVICE_RATE_BURST": "lots"}, "SERVICE_RATE_BURST"),
            ({"SERVICE_API_KEYS": KEY}, "in use"),
        ]
        for env, expected in cases:
            done = start_service(env, "--port", port)
            assert done.returncode == 2, done.stderr
            assert "Traceback" not in done.stderr
            (line,) = done.stderr.strip().splitlines()
            assert line.startswith("analyzer_service: cannot start: ") and expected in line


# -- runs that ask a person: /runs (issue 17, item 4) --------------------------------------


def scripted_approvals(**replies: Any) -> ScriptedHarness:
    """The approval workflow's agents, answered by what their prompt's first line asks."""

    def answer(request: HarnessRequest) -> str:
        return f"<{request.agent}: {request.prompt.splitlines()[0].split(': ', 1)[-1]}>"

    return ScriptedHarness({"analyzer": echo, **replies}, default=answer, chunk_size=4)


class Events:
    """A ``/runs/{id}/events`` stream read one event at a time."""

    def __init__(self, response: Any) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.seen: list[tuple[str, dict[str, Any]]] = []

    async def next(self) -> tuple[str, dict[str, Any]] | None:
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line:
                key, _, value = line.partition(": ")
                fields[key] = value
            elif fields:
                event = (fields["event"], json.loads(fields["data"]))
                assert fields.get("id") in (None, str(event[1].get("seq")))  # id: the log index
                self.seen.append(event)
                return event
        return None

    async def until(self, name: str) -> dict[str, Any]:
        """Read up to the next event called ``name``; its data."""
        while (event := await self.next()) is not None:
            if event[0] == name:
                return event[1]
        raise AssertionError(f"the stream ended before {name!r}: {self.names()}")

    async def rest(self) -> list[str]:
        """Read to the end of the stream; the names of every event read."""
        while await self.next() is not None:
            pass
        return self.names()

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]


@asynccontextmanager
async def events_of(client: Any, run: dict[str, Any], **headers: str) -> AsyncIterator[Events]:
    with trio.fail_after(10):
        async with client.stream(
            "GET", run["links"]["events"], headers={**AUTH, **headers}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream"
            yield Events(response)


async def start_run(client: Any, text: str = "the release", headers: Any = AUTH) -> dict[str, Any]:
    response = await client.post("/runs", json={"input": text}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == body["links"]["self"] == f"/runs/{body['run_id']}"
    return body


async def test_run_waits_for_approval_then_completes() -> None:
    """POST /runs starts a run that waits (GET: waiting, the awaited patterns, the draft);
    the approval sent through POST /runs/{id}/signals has it publish; the events stream
    shows the wait, the external signal and the end, then the result."""
    async with serving(harness=scripted_approvals()) as client:
        run = await start_run(client, "announce 1.0")
        assert run["status"] in ("running", "waiting") and run["error"] is None
        async with events_of(client, run) as events:
            waiting = await events.until("workflow:waiting")
            assert waiting["payload"] == {"patterns": ["approval:*"]}
            shown = (await client.get(run["links"]["self"], headers=AUTH)).json()
            assert shown["status"] == "waiting" and shown["awaited"] == ["approval:*"]
            assert shown["state"] == {
                "input": "announce 1.0",
                "draft": "<drafter: announce 1.0>",
                "final": None,
            }
            sent = await client.post(
                run["links"]["signals"],
                json={"name": "approval:granted", "payload": {"note": "ship it"}},
                headers=AUTH,
            )
            assert sent.status_code == 202
            assert (
                sent.json()["signal_id"].startswith("sig_") and sent.json()["status"] == "running"
            )
            granted = await events.until("approval:granted")
            result = await events.until("result")
            names = await events.rest()
        ended = (await client.get(run["links"]["self"], headers=AUTH)).json()
    assert granted["agent"] is None and granted["payload"] == {"note": "ship it"}
    assert names[0] == "workflow:start" and names[-2:] == ["workflow:end", "result"]
    assert names.index("approval:requested") < names.index("workflow:waiting")
    assert names.index("workflow:waiting") < names.index("approval:granted")
    assert result["status"] == ended["status"] == "terminated" and ended["awaited"] == []
    assert ended["state"]["final"] == "<publisher: <drafter: announce 1.0>>"
    assert result["state"] == ended["state"] and ended["error"] is None


async def test_denial_revises_and_waits_again() -> None:
    """approval:denied has the reviser revise the draft and ask again: the run waits anew."""
    async with serving(harness=scripted_approvals()) as client:
        run = await start_run(client, "draft it")
        async with events_of(client, run) as events:
            first = await events.until("workflow:waiting")
            denied = {"name": "approval:denied", "payload": {"reason": "shorter"}}
            sent = await client.post(run["links"]["signals"], json=denied, headers=AUTH)
            assert sent.status_code == 202
            second = await events.until("workflow:waiting")
            shown = (await client.get(run["links"]["self"], headers=AUTH)).json()
            granted = {"name": "approval:granted", "payload": {"note": "ok"}}
            await client.post(run["links"]["signals"], json=granted, headers=AUTH)
            await events.rest()
    assert second["seq"] > first["seq"]
    assert shown["status"] == "waiting"
    assert shown["state"]["draft"] == "<reviser: <drafter: draft it>>"


async def test_malformed_and_refused_signals_get_422() -> None:
    """A malformed body, a payload that is not an object and a name the run refuses get
    422 saying why (a refused name with the declared patterns); the run still waits,
    nothing was sent, and an approval still works after them."""
    async with serving(harness=scripted_approvals(), burst=100) as client:
        run = await start_run(client)
        async with events_of(client, run) as events:
            await events.until("workflow:waiting")
            malformed = [
                (b"not json", "the body is not valid JSON"),
                (b"[1]", "the body must be a JSON object"),
                (b"{}", "name: is required"),
                (b'{"name": 3}', "name: must be a string, not number"),
                (b'{"name": "approval:granted", "payload": [1]}', "payload: must be an object"),
                (b'{"name": "approval:granted", "payload": "ok"}', "payload: must be an object"),
                (b'{"name": "approval:granted", "extra": 1}', "extra: unknown field"),
            ]
            for body, message in malformed:
                response = await client.post(
                    run["links"]["signals"], content=body, headers={**AUTH, **JSON}
                )
                assert response.status_code == 422, body
                error = response.json()["error"]
                assert error["type"] == "validation_error" and message in error["message"]
            for name in ["workflow:end", "state:draft:changed", "other:thing", "approval:*"]:
                response = await client.post(
                    run["links"]["signals"], json={"name": name}, headers=AUTH
                )
                assert response.status_code == 422, name
                error = response.json()["error"]
                assert error["type"] == "signal_refused" and error["name"] == name
                assert error["patterns"] == ["approval:*"] and "'approval:*'" in error["message"]
            shown = (await client.get(run["links"]["self"], headers=AUTH)).json()
            assert shown["status"] == "waiting"
            granted = await client.post(
                run["links"]["signals"], json={"name": "approval:granted"}, headers=AUTH
            )
            assert granted.status_code == 202
            names = await events.rest()
    assert [n for n in names if n.startswith(("approval:", "other:"))] == [
        "approval:requested",
        "approval:granted",
    ]
    assert names.count("workflow:end") == 1 and names.count("state:draft:changed") == 1


async def test_signal_to_a_running_run_gets_409() -> None:
    """A run that is working, not waiting (its drafter is still at it), refuses a signal
    with 409 not_waiting; once it waits, the same signal is accepted."""
    release = trio.Event()

    async def held_draft(request: HarnessRequest) -> str:
        await release.wait()
        return "the draft"

    async with serving(harness=scripted_approvals(drafter=held_draft)) as client:
        run = await start_run(client)
        granted = {"name": "approval:granted", "payload": {"note": "ok"}}
        early = await client.post(run["links"]["signals"], json=granted, headers=AUTH)
        shown = (await client.get(run["links"]["self"], headers=AUTH)).json()
        async with events_of(client, run) as events:
            release.set()
            await events.until("workflow:waiting")
            later = await client.post(run["links"]["signals"], json=granted, headers=AUTH)
            await events.rest()
    assert early.status_code == 409
    error = early.json()["error"]
    assert error["type"] == "not_waiting" and error["run_status"] == "running"
    assert shown["status"] == "running" and shown["awaited"] == []
    assert later.status_code == 202


async def test_signal_to_an_ended_run_gets_409_and_one_of_two_racing_sends_wins() -> None:
    """Two approvals sent at once to a waiting run: one is accepted, the other gets 409;
    a signal to the ended run gets 409 run_ended."""
    async with serving(harness=scripted_approvals(), burst=100) as client:
        run = await start_run(client)
        statuses: list[int] = []

        async def grant() -> None:
            response = await client.post(
                run["links"]["signals"], json={"name": "approval:granted"}, headers=AUTH
            )
            statuses.append(response.status_code)

        async with events_of(client, run) as events:
            await events.until("workflow:waiting")
            async with trio.open_nursery() as nursery:
                nursery.start_soon(grant)
                nursery.start_soon(grant)
            names = await events.rest()
        late = await client.post(
            run["links"]["signals"], json={"name": "approval:denied"}, headers=AUTH
        )
    assert sorted(statuses) == [202, 409]
    assert names.count("approval:granted") == 1
    assert late.status_code == 409
    assert late.json()["error"]["type"] == "run_ended"
    assert late.json()["error"]["run_status"] == "terminated"


async def test_runs_need_a_key_and_belong_to_theirs() -> None:
    """Every /runs endpoint answers 401 without a key; an unknown id is 404, and so is
    another key's run (as if it did not exist)."""
    async with serving(harness=scripted_approvals()) as client:
        run = await start_run(client)
        path = run["links"]["self"]
        unauthenticated = [
            await client.post("/runs", json={"input": "x"}),
            await client.get(path),
            await client.post(f"{path}/signals", json={"name": "approval:granted"}),
            await client.get(f"{path}/events"),
        ]
        other = {"x-api-key": OTHER_KEY}
        unknown = [
            await client.get("/runs/run_nope", headers=AUTH),
            await client.post("/runs/run_nope/signals", json={"name": "a:b"}, headers=AUTH),
            await client.get("/runs/run_nope/events", headers=AUTH),
            await client.get(path, headers=other),
            await client.post(f"{path}/signals", json={"name": "approval:granted"}, headers=other),
        ]
        wrong_method = await client.delete(path, headers=AUTH)
        async with events_of(client, run) as events:
            await events.until("workflow:waiting")
            await client.post(f"{path}/signals", json={"name": "approval:granted"}, headers=AUTH)
            await events.rest()
    assert [r.status_code for r in unauthenticated] == [401] * 4
    assert all(r.headers["www-authenticate"].startswith("Bearer") for r in unauthenticated)
    assert [r.status_code for r in unknown] == [404] * 5
    assert unknown[0].json()["error"] == {
        "type": "unknown_run",
        "message": "no run 'run_nope'",
        "run_id": "run_nope",
    }
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET"


async def test_events_resume_after_last_event_id() -> None:
    """A stream opened with Last-Event-ID starts after that signal; opened after the run
    ended it replays the log to the end, then the result."""
    async with serving(harness=scripted_approvals()) as client:
        run = await start_run(client)
        async with events_of(client, run) as events:
            waiting = await events.until("workflow:waiting")
            await client.post(
                run["links"]["signals"], json={"name": "approval:granted"}, headers=AUTH
            )
            everything = await events.rest()
        async with events_of(client, run, **{"last-event-id": str(waiting["seq"])}) as after:
            rest = await after.rest()
    assert rest[0] == "approval:granted" and rest[-1] == "result"
    assert everything[-len(rest) :] == rest
    seqs = [data["seq"] for name, data in after.seen if name != "result"]
    assert seqs == list(range(waiting["seq"] + 1, waiting["seq"] + 1 + len(seqs)))


async def test_finished_runs_are_kept_to_the_limit_and_live_runs_are_capped() -> None:
    """Past keep_finished, the oldest finished run is forgotten (404); past max_runs live
    runs, POST /runs gets 503 too_many_runs."""
    async with serving(harness=scripted_approvals(), keep_finished=1, max_runs=1) as client:
        finished = []
        for text in ["one", "two"]:
            run = await start_run(client, text)
            async with events_of(client, run) as events:
                await events.until("workflow:waiting")
                full = await client.post("/runs", json={"input": "more"}, headers=AUTH)
                await client.post(
                    run["links"]["signals"], json={"name": "approval:granted"}, headers=AUTH
                )
                await events.until("result")
                await events.rest()
            finished.append(run["links"]["self"])
        first, second = [(await client.get(path, headers=AUTH)) for path in finished]
    assert full.status_code == 503 and full.json()["error"]["type"] == "too_many_runs"
    assert "retry-after" in full.headers
    assert first.status_code == 404
    assert second.status_code == 200 and second.json()["status"] == "terminated"


async def test_finished_runs_are_forgotten_after_keep_for() -> None:
    """The run book forgets a finished run keep_for seconds after it ended, never a live one."""
    now = [0.0]
    book = runs_book.RunBook(max_live=5, keep=10, keep_for=60, clock=lambda: now[0])
    options: dict[str, Any] = {
        "agents": workflows.APPROVAL_AGENTS,
        "harness": scripted_approvals(),
        "external": ["approval:*"],
        "end_when": lambda s: s.final is not None,
    }
    approval = workflows.approval
    with trio.fail_after(10):
        async with book.open():
            done = await book.start("key_a", approval, state=workflows.Proposal("a"), **options)
            live = await book.start("key_a", approval, state=workflows.Proposal("b"), **options)
            async for _ in done.handle.signals("workflow:waiting"):
                break
            await done.handle.send("approval:granted")
            await done.handle.wait()
            await trio.testing.wait_all_tasks_blocked()  # the book has dated its end
            now[0] = 59.0
            kept = book.get(done.run_id, "key_a")
            now[0] = 60.0
            forgotten = book.get(done.run_id, "key_a")
            still_live = book.get(live.run_id, "key_a")
    assert kept is not None and kept is done and kept.status == "terminated"
    assert forgotten is None
    assert still_live is live and live.status == "cancelled"  # cancelled as the book closed
    assert book.live == 0


async def test_timeout_bounds_a_waiting_run() -> None:
    """A run nobody answers ends at its run_timeout; its stream closes with a 504 error."""
    async with serving(harness=scripted_approvals(), run_timeout=0.3) as client:
        run = await start_run(client)
        async with events_of(client, run) as events:
            error = await events.until("error")
            await events.rest()
        shown = (await client.get(run["links"]["self"], headers=AUTH)).json()
    assert "workflow:waiting" in events.names()
    assert error["status"] == 504 and error["error"]["type"] == "timeout"
    assert error["run"]["status"] == "timeout"
    assert shown["status"] == "timeout" and shown["error"]["status"] == 504


async def test_shutdown_cancels_waiting_runs_at_once() -> None:
    """At shutdown a waiting run is cancelled at once, not at the end of the grace period:
    its stream ends with a 503 error event, and new runs are refused."""
    async with stoppable(harness=scripted_approvals()) as (client, stop):
        run = await start_run(client)
        async with events_of(client, run) as events:
            await events.until("workflow:waiting")
            started = trio.current_time()
            stop.set()
            error = await events.until("error")
            elapsed = trio.current_time() - started
            await events.rest()
    assert error["status"] == 503 and error["error"]["type"] == "cancelled"
    assert error["run"]["status"] == "cancelled"
    assert elapsed < 1.0  # the grace period is 2 s; runs in flight get 1 s of it


async def test_leaving_the_event_stream_leaves_the_run_alone() -> None:
    """A client that closes its events stream mid-run does not cancel the run (unlike
    /analyze/stream, the run is not the request's): it still waits, and still publishes."""
    with structlog.testing.capture_logs() as logs:
        async with serving(harness=scripted_approvals()) as client:
            shown, sent, ended = await leave_then_approve(client, logs)
    assert shown["status"] == "waiting" and sent.status_code == 202
    assert ended["status"] == "terminated" and ended["state"]["final"] is not None


async def leave_then_approve(
    client: Any, logs: Sequence[Mapping[str, Any]]
) -> tuple[Any, Any, Any]:
    """Follow a run's events on a raw connection until it waits, leave, wait for the server
    to have ended that request, then read the run, approve it and read it again."""
    run = await start_run(client)
    host, port = str(client.base_url).removeprefix("http://").rstrip("/").split(":")
    request = (
        f"GET {run['links']['events']} HTTP/1.1\r\nhost: {host}\r\n"
        f"authorization: Bearer {KEY}\r\n\r\n"
    ).encode()
    with trio.fail_after(10):
        async with await trio.open_tcp_stream(host, int(port)) as stream:
            await stream.send_all(request)
            received = b""
            while b"event: workflow:waiting" not in received:
                received += await stream.receive_some(65536)
        while True:  # until the server has seen the client leave and ended that request
            finished = [e for e in logs if e["event"] == "request_finished"]
            if any(e["path"] == run["links"]["events"] for e in finished):
                break
            await trio.sleep(0.01)
    shown = (await client.get(run["links"]["self"], headers=AUTH)).json()
    async with events_of(client, run) as events:
        granted = {"name": "approval:granted"}
        sent = await client.post(run["links"]["signals"], json=granted, headers=AUTH)
        await events.until("result")
        await events.rest()
    ended = (await client.get(run["links"]["self"], headers=AUTH)).json()
    return shown, sent, ended
