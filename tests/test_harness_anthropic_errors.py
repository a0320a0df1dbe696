"""AnthropicHarness failures: retries, final errors, timeouts, cancellation and key hygiene."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import anthropic
import attrs
import pytest
import structlog
import trio
import trio.testing

from openharness_actors import (
    AnthropicHarness,
    HarnessError,
    RetryPolicy,
    WorkflowTimeoutError,
    create_workflow,
)
from openharness_actors.testing.fake_anthropic import (
    FakeAnthropic,
    dropped_reply,
    http_error,
    open_fake_anthropic,
    stalled_reply,
    stream_error,
    text_reply,
)

KEY = "sk-ant-secret-Zq81vX0w-do-not-leak"
FAST_RETRY = RetryPolicy(initial_delay=0.01, max_delay=0.05, jitter=0)


@attrs.frozen
class State:
    input: str
    result: str | None = None
    other: str | None = None


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropic]:
    async with open_fake_anthropic(chunk_size=4) as fake:
        yield fake


@pytest.fixture
async def make_harness(server: FakeAnthropic) -> AsyncIterator[Callable[..., AnthropicHarness]]:
    made: list[AnthropicHarness] = []

    def make(**options: Any) -> AnthropicHarness:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", server.base_url)
        options.setdefault("model", "claude-sonnet-5-5")
        options.setdefault("retry", FAST_RETRY)
        harness = AnthropicHarness(**options)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.aclose()


def one_agent() -> tuple[Any, dict[str, Any]]:
    wf = create_workflow(State)
    agent = wf.agent(
        prompt="Analyze: {{ state.input }}", activate_on=["workflow:start"], updates="result"
    )
    return wf, {"analyzer": agent}


async def test_rate_limited_call_honours_retry_after_then_succeeds(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A 429 with retry-after is retried after that delay, visibly, and then succeeds."""
    server.script(http_error(429, retry_after=0.3), text_reply("done"))
    wf, agents = one_agent()
    result = await wf.run_reactive(
        agents=agents, state=State("x"), harness=make_harness(), timeout=10
    )
    assert result.state.result == "done"
    (retry,) = result.signals_named("harness:retry")
    assert retry.payload["attempt"] == 1
    assert retry.payload["delay"] == 0.3
    assert retry.payload["code"] == "429"
    assert "rate_limit_error" in retry.payload["message"]
    first, second = server.requests
    assert second.received_at - first.received_at >= 0.3
    assert second.headers["x-stainless-retry-count"] == "0"  # our retry, not the SDK's


async def test_server_errors_exhaust_retries(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """Three 500s with two retries allowed raise HarnessError with status, request id and agent."""
    server.script(*[http_error(500, message="kaput")] * 3)
    wf, agents = one_agent()
    with pytest.raises(HarnessError) as caught:
        await wf.run_reactive(
            agents=agents, state=State("x"), harness=make_harness(max_retries=2), timeout=10
        )
    error = caught.value
    assert error.status_code == 500
    assert error.code == "500"
    assert error.retryable
    assert error.request_id == "req_fake_3"
    assert error.agent == "analyzer"
    assert "after 3 attempts" in str(error)
    assert "kaput" in str(error)
    assert isinstance(error.__cause__, anthropic.InternalServerError)
    assert len(server.requests) == 3
    assert error.partial is not None
    signals = error.partial.signals
    assert [s.payload["attempt"] for s in signals if s.name == "harness:retry"] == [1, 2]
    (failed,) = [s for s in signals if s.name == "harness:error"]
    assert failed.payload["code"] == "500"
    assert failed.payload["retryable"] is True


async def test_validation_errors_are_not_retried(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A 400 fails at once: one request, no harness:retry."""
    server.script(http_error(400, message="max_tokens: too large"))
    wf, agents = one_agent()
    with pytest.raises(HarnessError) as caught:
        await wf.run_reactive(agents=agents, state=State("x"), harness=make_harness(), timeout=10)
    assert caught.value.status_code == 400
    assert not caught.value.retryable
    assert isinstance(caught.value.__cause__, anthropic.BadRequestError)
    assert len(server.requests) == 1
    assert caught.value.partial is not None
    assert not [s for s in caught.value.partial.signals if s.name == "harness:retry"]


async def test_overloaded_error_event_mid_stream_is_retried(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """An overloaded_error event after some deltas is retried; the second attempt's text wins."""
    server.script(stream_error(after_events=4, text="partial answer"), text_reply("full answer"))
    wf, agents = one_agent()
    result = await wf.run_reactive(
        agents=agents, state=State("x"), harness=make_harness(), timeout=10
    )
    assert result.state.result == "full answer"
    names = [s.name for s in result.signals]
    retry_at = names.index("harness:retry")
    assert "text:delta" in names[:retry_at]
    assert result.signals[retry_at].payload["code"] == "overloaded_error"
    assert names[retry_at:].count("text:complete") == 1
    assert len(server.requests) == 2


async def test_overloaded_error_event_exhausts_retries(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """Mid-stream overloaded errors on every attempt raise HarnessError with the request id."""
    server.default = stream_error(after_events=2)
    wf, agents = one_agent()
    with pytest.raises(HarnessError) as caught:
        await wf.run_reactive(
            agents=agents, state=State("x"), harness=make_harness(max_retries=1), timeout=10
        )
    assert caught.value.code == "overloaded_error"
    assert caught.value.request_id == "req_fake_2"
    assert caught.value.retryable


async def test_connection_dropped_mid_stream_is_retried(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A connection the server drops mid-stream is retried as a connection error."""
    server.script(dropped_reply(after_events=4), text_reply("whole"))
    wf, agents = one_agent()
    result = await wf.run_reactive(
        agents=agents, state=State("x"), harness=make_harness(), timeout=10
    )
    assert result.state.result == "whole"
    (retry,) = result.signals_named("harness:retry")
    assert retry.payload["code"] == "connection_error"
    assert server.statistics().dropped == 1


async def test_unreachable_server_fails_after_retries(
    make_harness: Callable[..., AnthropicHarness],
) -> None:
    """Refused connections are retried, then raise HarnessError with code connection_error."""
    listener = trio.socket.socket()
    await listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()
    wf, agents = one_agent()
    harness = make_harness(base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(HarnessError) as caught:
        await wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
    assert caught.value.code == "connection_error"
    assert caught.value.status_code is None
    assert isinstance(caught.value.__cause__, anthropic.APIConnectionError)
    assert harness.statistics().requests == 2


async def test_per_call_timeout(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A call stalling past the timeout is abandoned, its connection closed, then retried."""
    server.script(stalled_reply(after_events=3), stalled_reply(after_events=3))
    wf, agents = one_agent()
    harness = make_harness(timeout=0.2, max_retries=1)
    with trio.fail_after(5):
        with pytest.raises(HarnessError) as caught:
            await wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
    assert caught.value.code == "timeout"
    assert caught.value.retryable
    assert "0.2s" in str(caught.value)
    with trio.fail_after(2):
        await server.wait_disconnects(2)
    assert all(request.disconnected for request in server.requests)


async def test_slow_response_head_times_out(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A server that does not even answer within the timeout fails the call with code timeout."""
    server.script(text_reply("late", latency=5))
    wf, agents = one_agent()
    with trio.fail_after(5), pytest.raises(HarnessError) as caught:
        await wf.run_reactive(
            agents=agents,
            state=State("x"),
            harness=make_harness(timeout=0.2, max_retries=0),
            timeout=10,
        )
    assert caught.value.code == "timeout"


async def test_host_cancellation_mid_stream_closes_the_connection(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """Cancelling the host scope while a reply streams closes the HTTP connection promptly."""
    server.script(stalled_reply(after_events=4, text="a long answer"))
    wf, agents = one_agent()
    harness = make_harness()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
        )
        await server.wait_requests(1)
        await trio.testing.wait_all_tasks_blocked()  # the reply stalls mid-stream
        assert server.statistics().in_flight == 1
        nursery.cancel_scope.cancel()
    with trio.fail_after(10):  # a bound, not a wait: a loaded machine is slow to notice
        await server.wait_disconnects(1)
    assert server.requests[0].disconnected
    assert not server.requests[0].finished
    assert harness.statistics().in_flight == 0


async def test_end_when_cancels_in_flight_streams(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """When end_when holds, a sibling's stalled stream is cancelled and its connection closed."""
    server.default = lambda request: (
        text_reply("quick", latency=0.1)
        if "Quick" in request.last_user_text
        else stalled_reply(after_events=3)
    )
    wf = create_workflow(State)
    agents = {
        "quick": wf.agent(
            prompt="Quick {{ state.input }}", activate_on=["workflow:start"], updates="result"
        ),
        "slow": wf.agent(
            prompt="Slow {{ state.input }}", activate_on=["workflow:start"], updates="other"
        ),
    }
    with trio.fail_after(5):
        result = await wf.run_reactive(
            agents=agents,
            state=State("x"),
            harness=make_harness(),
            end_when=lambda s: s.result is not None,
            timeout=10,
        )
    assert result.terminated_early
    assert result.state.result == "quick"
    with trio.fail_after(10):  # a bound, not a wait: a loaded machine is slow to notice
        await server.wait_disconnects(1)
    slow = [r for r in server.requests if "Slow" in r.last_user_text]
    assert slow[0].disconnected


async def test_run_timeout_closes_the_stream(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """The run's timeout cancels a stalled stream: WorkflowTimeoutError and a closed connection."""
    server.script(stalled_reply(after_events=3))
    wf, agents = one_agent()
    with pytest.raises(WorkflowTimeoutError):
        await wf.run_reactive(agents=agents, state=State("x"), harness=make_harness(), timeout=0.3)
    with trio.fail_after(10):  # a bound, not a wait: a loaded machine is slow to notice
        await server.wait_disconnects(1)


async def test_api_key_never_leaks(
    server: FakeAnthropic,
    make_harness: Callable[..., AnthropicHarness],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The key is sent to the server but is absent from signals, log lines, errors and repr."""
    caplog.set_level(logging.DEBUG)
    harness = make_harness(max_retries=1)
    wf, agents = one_agent()
    server.script(http_error(429, retry_after=0.01), text_reply("fine"))
    ok = await wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
    server.script(http_error(503), stream_error(after_events=2, error_type="api_error"))
    with pytest.raises(HarnessError) as caught:
        await wf.run_reactive(agents=agents, state=State("y"), harness=harness, timeout=10)
    assert server.requests[0].api_key == KEY
    failed = caught.value
    assert failed.partial is not None
    signals = [*ok.signals, *failed.partial.signals]
    assert any(s.name == "harness:retry" for s in signals)
    assert any(s.name == "harness:error" for s in signals)
    for signal in signals:
        assert KEY not in json.dumps(signal.payload)
        assert KEY not in repr(signal)
    records = caplog.records
    assert any(record.name.startswith("anthropic") for record in records)
    assert any(record.name == "openharness_actors" for record in records)
    for record in records:
        assert KEY not in record.getMessage()
        assert KEY not in repr(record.__dict__)
    assert KEY not in caplog.text
    error: BaseException | None = failed
    while error is not None:
        assert KEY not in str(error)
        assert KEY not in repr(error)
        error = error.__cause__
    assert KEY not in repr(harness)
    assert KEY not in str(harness.statistics())
    was_configured = structlog.is_configured()
    server.script(http_error(429, retry_after=0.01), text_reply("fine"))
    try:
        with structlog.testing.capture_logs() as structured:
            await wf.run_reactive(agents=agents, state=State("z"), harness=harness, timeout=10)
    finally:
        if not was_configured:
            structlog.reset_defaults()  # capture_logs leaves structlog marked as configured
    assert any(entry["event"] == "anthropic.retry" for entry in structured)
    assert KEY not in repr(structured)


async def test_cancellation_at_any_point_leaves_no_stream_behind(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """Ending a run while many replies stream (cancelling mid-emit too) closes every connection."""
    server.default = lambda request: text_reply(
        "word " * (5 if request.last_user_text == "Go 0" else 2000),
        chunk_size=3,
        event_delay=0.0005,
    )
    wf = create_workflow(dict)
    agents = {
        f"a{i}": wf.agent(prompt=f"Go {i}", activate_on=["workflow:start"], updates=f"r{i}")
        for i in range(20)
    }
    state = {f"r{i}": None for i in range(20)}
    with trio.fail_after(10):
        result = await wf.run_reactive(
            agents=agents,
            state=state,
            harness=make_harness(),
            end_when=lambda s: any(value is not None for value in s.values()),
            timeout=10,
        )
    assert result.terminated_early
    with trio.fail_after(2):
        await server.wait_idle()
    statistics = server.statistics()
    assert statistics.completed + statistics.disconnects == statistics.requests == 20
    assert statistics.disconnects >= 1
