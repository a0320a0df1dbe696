"""Call limits: the CallLimiter protocol, the local limiter, batches with limits=, and the
Anthropic harness consulting it."""

from __future__ import annotations

import functools
import pickle

import anthropic
import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    AnthropicHarness,
    HarnessRequest,
    ScriptedHarness,
    create_workflow,
    run_batch,
)
from openharness_actors.harness.limits import (
    CallLimits,
    LocalCallLimiter,
    current_call_limiter,
    limited_call,
    using_call_limiter,
)
from openharness_actors.testing.fake_anthropic import open_fake_anthropic, text_reply


class InFlight:
    def __init__(self) -> None:
        self.now = self.most = 0

    async def hold(self, seconds: float) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        await trio.sleep(seconds)
        self.now -= 1


async def test_concurrency_slots_are_never_exceeded(autojump_clock: trio.testing.MockClock) -> None:
    """With concurrency=2, ten calls run two at a time, in arrival order."""
    limiter = LocalCallLimiter(CallLimits(concurrency=2))
    meter, started = InFlight(), []

    async def call(n: int) -> None:
        async with limited_call(limiter):
            started.append(n)
            await meter.hold(1)

    async with trio.open_nursery() as nursery:
        for n in range(10):
            nursery.start_soon(call, n)
            await trio.testing.wait_all_tasks_blocked()
    assert meter.most == 2
    assert started == list(range(10))
    assert trio.current_time() == pytest.approx(5)
    assert limiter.statistics().granted == 10


async def test_requests_per_minute_spread_calls(autojump_clock: trio.testing.MockClock) -> None:
    """requests_per_minute=2: two calls at once, then one every 30 seconds."""
    limiter = LocalCallLimiter(CallLimits(requests_per_minute=2))
    times = []
    for _ in range(4):
        permit = await limiter.acquire()
        times.append(trio.current_time())
        await permit.release()
    assert times == pytest.approx([0, 0, 30, 60])


async def test_tokens_settle_on_actual_usage(autojump_clock: trio.testing.MockClock) -> None:
    """A call estimated at 60 of 100 tokens/min that used 10 leaves room for the next at once;
    one that used 100 makes the next wait for the bucket to refill."""
    limiter = LocalCallLimiter(CallLimits(tokens_per_minute=100))
    async with limited_call(limiter, 60) as call:
        call.used_tokens = 10
    async with limited_call(limiter, 60) as call:
        call.used_tokens = 100
    assert trio.current_time() == 0
    async with limited_call(limiter, 60):
        pass
    # bucket: 100 - 10 - 100 = -10; 60 tokens more take 70 * 60 / 100 = 42 seconds
    assert trio.current_time() == pytest.approx(42)


async def test_cancelled_waiter_leaks_no_slot(autojump_clock: trio.testing.MockClock) -> None:
    """A call cancelled while waiting for a slot takes none; one cancelled mid-call gives its
    slot back."""
    limiter = LocalCallLimiter(CallLimits(concurrency=1))
    with trio.move_on_after(1):
        async with limited_call(limiter), limited_call(limiter):
            pytest.fail("the second call cannot start while the first holds the slot")
    assert limiter.statistics().in_use == 0
    async with limited_call(limiter):
        assert limiter.statistics().in_use == 1


def test_limits_are_validated() -> None:
    """Limits must be positive numbers (or None for unlimited)."""
    with pytest.raises(ValueError, match="concurrency"):
        CallLimits(concurrency=0)
    with pytest.raises(ValueError, match="tokens_per_minute"):
        CallLimits(tokens_per_minute=True)


@attrs.frozen
class Case:
    id: int
    answer: str | None = None


wf = create_workflow(Case)
solver = wf.agent(prompt="case {{ id }}", activate_on=["workflow:start"], updates="answer")


async def test_batch_limits_cap_calls_across_cases(autojump_clock: trio.testing.MockClock) -> None:
    """run_batch(limits=...) caps the harness calls of all cases, whatever concurrency says."""
    meter = InFlight()

    async def reply(request: HarnessRequest) -> str:
        assert current_call_limiter() is not None
        await meter.hold(1)
        return "ok"

    batch = await run_batch(
        wf,
        [{"id": i} for i in range(12)],
        agents={"solver": solver},
        harness=ScriptedHarness(default=reply),
        concurrency=12,
        limits=CallLimits(concurrency=3),
    )
    assert batch.metrics.succeeded == 12
    assert meter.most == 3
    assert current_call_limiter() is None


async def test_scripted_harness_uses_its_own_limiter(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """ScriptedHarness(limiter=...) consults that limiter, even under an ambient one."""
    own = LocalCallLimiter(CallLimits(concurrency=1))
    ambient = LocalCallLimiter(CallLimits(concurrency=5))
    harness = ScriptedHarness(default="ok", delay=1.0, limiter=own)
    with using_call_limiter(ambient):
        async with trio.open_nursery() as nursery:
            for i in range(3):
                nursery.start_soon(
                    functools.partial(
                        wf.run_reactive, agents={"solver": solver}, state=Case(i), harness=harness
                    )
                )
    assert trio.current_time() == pytest.approx(3)
    assert own.statistics().granted == 3
    assert ambient.statistics().granted == 0


async def test_anthropic_harness_consults_the_batch_limiter() -> None:
    """AnthropicHarness requests hold the ambient limiter's permits: with limits=2 the fake
    API never sees more than two requests at once, whatever the harness's own limit."""
    async with (
        open_fake_anthropic(text_reply("ok"), latency=0.03) as server,
        AnthropicHarness(api_key="test-key", base_url=server.base_url) as harness,
    ):
        batch = await run_batch(
            wf,
            [{"id": i} for i in range(10)],
            agents={"solver": solver},
            harness=harness,
            concurrency=10,
            limits=CallLimits(concurrency=2),
        )
    assert batch.metrics.succeeded == 10
    assert server.statistics().peak_in_flight == 2


def test_anthropic_harness_pickles_its_configuration_only() -> None:
    """A pickled AnthropicHarness keeps its configuration and gets fresh limits and no
    client; one made with client= refuses to be pickled."""
    harness = AnthropicHarness(
        "claude-test", max_tokens=99, max_concurrency=3, requests_per_minute=5, api_key="k-1"
    )
    copy = pickle.loads(pickle.dumps(harness))
    assert (copy.model, copy.max_tokens, copy.max_concurrency) == ("claude-test", 99, 3)
    figures = copy.statistics()
    assert figures.requests == 0 and figures.requests_available == 5
    with pytest.raises(TypeError, match="client="):
        pickle.dumps(AnthropicHarness(client=anthropic.AsyncAnthropic(api_key="k-2")))
