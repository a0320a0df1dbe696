"""Limits shared by every run using one AnthropicHarness: concurrency, requests, tokens."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from openharness_actors import AnthropicHarness, create_workflow
from openharness_actors.harness._token_bucket import RateLimiter
from openharness_actors.testing.fake_anthropic import open_fake_anthropic, text_reply

KEY = "sk-ant-test-limits"


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def test_concurrency_limit_holds_for_50_parallel_agents() -> None:
    """Fifty agents activated at once never have more than max_concurrency requests open."""
    wf = create_workflow(dict)
    agents = {
        f"agent{i}": wf.agent(prompt=f"Task {i}", activate_on=["workflow:start"], updates=f"r{i}")
        for i in range(50)
    }
    async with (
        open_fake_anthropic(text_reply("ok"), latency=0.03) as server,
        AnthropicHarness(api_key=KEY, base_url=server.base_url, max_concurrency=5) as harness,
    ):
        result = await wf.run_reactive(
            agents=agents, state={f"r{i}": None for i in range(50)}, harness=harness, timeout=30
        )
        assert harness.statistics().peak_in_flight == 5
        assert harness.statistics().in_flight == 0
    assert all(value == "ok" for value in result.state.values())
    statistics = server.statistics()
    assert statistics.requests == 50
    assert statistics.completed == 50
    assert statistics.peak_in_flight == 5


async def test_concurrency_limit_is_shared_between_runs() -> None:
    """Two runs using the same harness share its concurrency limit."""
    wf = create_workflow(dict)
    agents = {
        f"agent{i}": wf.agent(prompt=f"Task {i}", activate_on=["workflow:start"], updates=f"r{i}")
        for i in range(6)
    }
    state = {f"r{i}": None for i in range(6)}
    async with (
        open_fake_anthropic(latency=0.03) as server,
        AnthropicHarness(api_key=KEY, base_url=server.base_url, max_concurrency=3) as harness,
        trio.open_nursery() as nursery,
    ):
        for _ in range(2):
            nursery.start_soon(
                lambda: wf.run_reactive(agents=agents, state=state, harness=harness, timeout=30)
            )
    assert server.statistics().requests == 12
    assert server.statistics().peak_in_flight == 3


async def test_requests_per_minute_bucket(autojump_clock: trio.testing.MockClock) -> None:
    """A minute's budget goes through at once; the next request waits for the refill."""
    limiter = RateLimiter(per_minute=60)
    start = trio.current_time()
    for _ in range(60):
        await limiter.acquire()
    assert trio.current_time() == start
    await limiter.acquire()
    assert trio.current_time() - start == pytest.approx(1.0)
    await trio.sleep(30)
    for _ in range(30):
        await limiter.acquire()
    assert trio.current_time() - start == pytest.approx(31.0)


async def test_rate_limiter_serves_in_arrival_order(autojump_clock: trio.testing.MockClock) -> None:
    """Waiting takers are served first come, first served, one refill interval apart."""
    limiter = RateLimiter(per_minute=6)
    for _ in range(6):
        await limiter.acquire()
    served: list[tuple[int, float]] = []
    start = trio.current_time()

    async def taker(number: int) -> None:
        await limiter.acquire()
        served.append((number, trio.current_time() - start))

    async with trio.open_nursery() as nursery:
        for number in range(3):
            nursery.start_soon(taker, number)
            await trio.testing.wait_all_tasks_blocked()
        assert limiter.statistics().waiting == 3
    assert [number for number, _ in served] == [0, 1, 2]
    assert [round(when, 6) for _, when in served] == [10.0, 20.0, 30.0]


async def test_cancelled_taker_takes_nothing(autojump_clock: trio.testing.MockClock) -> None:
    """A taker cancelled while waiting leaves the bucket as it was."""
    limiter = RateLimiter(per_minute=60)
    await limiter.acquire(60)
    with trio.move_on_after(0.5):
        await limiter.acquire()
    await trio.sleep(0.5)
    assert limiter.statistics().available == pytest.approx(1.0)


async def test_token_budget_is_corrected_after_the_fact(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Charges beyond the estimate put the bucket in debt, which takers wait out; refunds cap."""
    limiter = RateLimiter(per_minute=600)
    await limiter.acquire(100)
    limiter.charge(800)
    assert limiter.statistics().available == pytest.approx(-300)
    start = trio.current_time()
    await limiter.acquire(100)
    assert trio.current_time() - start == pytest.approx(40.0)
    limiter.refund(10_000)
    assert limiter.statistics().available == pytest.approx(600)
    await limiter.acquire(5_000)  # more than the bucket holds: takes the whole bucket
    assert limiter.statistics().available == pytest.approx(0)


async def test_harness_counts_requests_and_tokens_against_its_limits() -> None:
    """Each request takes one request unit and its reported tokens from the harness's buckets."""
    wf = create_workflow(dict)
    agents = {"a": wf.agent(prompt="Hi", activate_on=["workflow:start"], updates="r")}
    async with (
        open_fake_anthropic(text_reply("ok")) as server,
        AnthropicHarness(
            api_key=KEY, base_url=server.base_url, requests_per_minute=60, tokens_per_minute=600
        ) as harness,
    ):
        for _ in range(3):
            result = await wf.run_reactive(
                agents=agents, state={"r": None}, harness=harness, timeout=10
            )
        statistics = harness.statistics()
    assert statistics.requests == 3
    assert statistics.requests_available == pytest.approx(57, abs=0.5)
    used = result.metrics.usage.input_tokens + result.metrics.usage.output_tokens
    assert statistics.tokens_available == pytest.approx(600 - 3 * used, abs=2)


def test_rate_limiter_rejects_a_zero_budget() -> None:
    """A bucket needs a positive size."""
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(0)
