"""Retry defaults (issue 14, item 5): which errors ``RetryPolicy`` retries by default, guards
bounded by the agent's timeout, and status-based retry in the Anthropic harness."""

from __future__ import annotations

import errno
import socket
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    ActivationTimeoutError,
    AnthropicHarness,
    HarnessError,
    OutputParseError,
    ReplayDivergenceError,
    RetryPolicy,
    ScriptedHarness,
    UserCodeError,
    create_workflow,
    default_retry_on,
)
from openharness_actors.testing.fake_anthropic import (
    FakeAnthropic,
    http_error,
    open_fake_anthropic,
    text_reply,
)


def caused(error: BaseException, cause: BaseException) -> BaseException:
    error.__cause__ = cause
    return error


@attrs.frozen
class FakeResponse:
    status_code: int


class HTTPStatusLike(Exception):
    """An HTTP client's status error: the status sits on ``response``."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.response = FakeResponse(status)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (ConnectionError("reset"), True),
        (ConnectionResetError(errno.ECONNRESET, "reset by peer"), True),
        (OSError(errno.ENETUNREACH, "network is unreachable"), True),
        (socket.gaierror(socket.EAI_AGAIN, "temporary failure in name resolution"), True),
        (TimeoutError("slow"), True),
        (trio.BrokenResourceError("stream broke"), True),
        (HTTPStatusLike(503), True),
        (HTTPStatusLike(404), False),
        (HarnessError("overloaded", retryable=True), True),
        (HarnessError("HTTP 502", status_code=502), True),
        (HarnessError("HTTP 429", status_code=429), True),
        (HarnessError("HTTP 400", status_code=400), False),
        (caused(HarnessError("wrapped", code="harness_exception"), ConnectionError()), True),
        (caused(UserCodeError("body raised", where="body"), ConnectionError()), True),
        (caused(UserCodeError("body raised", where="body"), KeyError("k")), False),
        (ActivationTimeoutError("too slow", agent="a", timeout=1.0), True),
        (OutputParseError("not JSON", raw="x"), False),
        (ReplayDivergenceError("differs"), False),
        (FileNotFoundError(errno.ENOENT, "no such file"), False),
        (PermissionError(errno.EACCES, "denied"), False),
        (TypeError("bad argument"), False),
        (ValueError("bad value"), False),
        (AttributeError("no attribute"), False),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_default_retry_on_retries_transient_errors_only(
    error: BaseException, retried: bool
) -> None:
    """Connection errors, timeouts, 408/409/429/5xx and retryable harness errors are retried
    (also as the cause of a library error); programming errors and other OSErrors are not."""
    assert default_retry_on(error) is retried
    assert RetryPolicy(attempts=3).should_retry(error, 1, 0.0) is retried


async def test_harness_connection_error_is_retried_by_default(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """RetryPolicy(attempts=3) retries a ConnectionError raised by a harness, then succeeds."""
    wf = create_workflow(dict)
    harness = ScriptedHarness({"a": [ConnectionError("connection reset"), "ok"]})
    agent = wf.agent(
        prompt="p", activate_on=["workflow:start"], updates="k", retry=RetryPolicy(attempts=3)
    )
    result = await wf.run_reactive(agents={"a": agent}, state={"k": None}, harness=harness)
    assert result.state["k"] == "ok"
    (retry,) = result.signals_named("agent:retry")
    assert retry.payload["error_type"] == "HarnessError"
    assert result.metrics.agents["a"].retries == 1


async def test_programming_error_in_a_body_is_not_retried(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A body raising KeyError fails at once: one call, no agent:retry."""
    calls = 0

    def body(ctx: Any) -> str:
        nonlocal calls
        calls += 1
        empty: dict[str, str] = {}
        return empty["missing"]

    wf = create_workflow(dict)
    agent = wf.agent(
        body=body, activate_on=["workflow:start"], updates="k", retry=RetryPolicy(attempts=3)
    )
    with pytest.raises(UserCodeError) as error:
        await wf.run_reactive(agents={"a": agent}, state={"k": None})
    assert calls == 1
    assert error.value.partial is not None
    assert not error.value.partial.signals_named("agent:retry")


async def test_guard_that_never_returns_is_bounded_by_the_agent_timeout(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An async guard that never returns fails the activation after the agent's timeout with
    an ActivationTimeoutError naming the guard, instead of hanging the run."""

    async def guard(ctx: Any) -> bool:
        await trio.sleep_forever()
        return True

    wf = create_workflow(dict)
    agent = wf.agent(
        body=lambda ctx: "x", activate_on=["workflow:start"], updates="k", when=guard, timeout=5
    )
    started = trio.current_time()
    with pytest.raises(ActivationTimeoutError, match="guard of agent 'gated'") as error:
        await wf.run_reactive(agents={"gated": agent}, state={"k": None})
    assert trio.current_time() - started == pytest.approx(5.0)
    assert error.value.agent == "gated"
    assert error.value.partial is not None
    assert error.value.partial.signals[-1].name == "workflow:end"
    assert error.value.partial.signals_named("agent:failed")


async def test_quick_async_guard_with_a_timeout_still_decides(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An async guard that answers within the timeout still decides (False skips)."""

    async def guard(ctx: Any) -> bool:
        await trio.sleep(1)
        return False

    wf = create_workflow(dict)
    agent = wf.agent(
        body=lambda ctx: "x", activate_on=["workflow:start"], updates="k", when=guard, timeout=5
    )
    result = await wf.run_reactive(agents={"gated": agent}, state={"k": None})
    assert result.status == "completed"
    assert result.signals_named("agent:skipped")[0].payload["reason"] == "guard"


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropic]:
    async with open_fake_anthropic() as fake:
        yield fake


@pytest.mark.parametrize(
    ("status", "error_type", "requests"),
    [(400, "api_error", 1), (404, "api_error", 1), (409, "invalid_request_error", 2)],
)
async def test_anthropic_retry_is_decided_by_status(
    server: FakeAnthropic, status: int, error_type: str, requests: int
) -> None:
    """A 4xx is final even when its body says api_error; a 409 is retried whatever its type."""
    server.script(http_error(status, error_type=error_type), text_reply("done"))
    harness = AnthropicHarness(
        api_key="sk-test",
        base_url=server.base_url,
        retry=RetryPolicy(initial_delay=0.01, max_delay=0.01, jitter=0),
    )
    wf = create_workflow(dict)
    agent = wf.agent(prompt="p", activate_on=["workflow:start"], updates="k")
    try:
        if requests == 1:
            with pytest.raises(HarnessError) as error:
                await wf.run_reactive(agents={"a": agent}, state={"k": None}, harness=harness)
            assert error.value.status_code == status
            assert not error.value.retryable
        else:
            result = await wf.run_reactive(agents={"a": agent}, state={"k": None}, harness=harness)
            assert result.state["k"] == "done"
    finally:
        await harness.aclose()
    assert len(server.requests) == requests
