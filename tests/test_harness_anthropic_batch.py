"""AnthropicBatchHarness against the fake server's Message Batches API: pooling, price,
per-result failures, tool loops, hand-over between drivers, journaled resume, progress."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    AnthropicBatchHarness,
    AnthropicHarness,
    HarnessError,
    Journal,
    MemorySignalStore,
    ProgressPrinter,
    create_workflow,
    run_batch,
)
from openharness_actors.harness._pricing import estimate_cost
from openharness_actors.testing.fake_anthropic import (
    FakeAnthropic,
    FakeReply,
    RecordedRequest,
    http_error,
    open_fake_anthropic,
    text_reply,
    tool_use_reply,
)

KEY = "sk-ant-test-key-0123456789"
MODEL = "claude-sonnet-4-5"


@attrs.frozen
class Case:
    id: int
    text: str
    answer: str | None = None


wf = create_workflow(Case)
solver = wf.agent(prompt="solve {{ text }}", activate_on=["workflow:start"], updates="answer")
AGENTS = {"solver": solver}


def answer(request: RecordedRequest) -> FakeReply:
    return text_reply(f"answer to {request.last_user_text}")


@pytest.fixture
def clock() -> trio.testing.MockClock:
    # Jump over the pooling and polling waits, but only once the loopback I/O has settled.
    return trio.testing.MockClock(autojump_threshold=0.02)


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropic]:
    async with open_fake_anthropic(answer) as fake:
        fake.batches.processing_time = 30.0
        yield fake


def batch_harness(server: FakeAnthropic, **options: Any) -> AnthropicBatchHarness:
    options.setdefault("max_wait", 1.0)
    options.setdefault("poll_interval", 5.0)
    return AnthropicBatchHarness(
        MODEL, api_key=KEY, base_url=server.base_url, timeout=None, **options
    )


def cases(count: int) -> list[dict[str, Any]]:
    return [{"id": n, "text": f"problem {n}"} for n in range(count)]


async def test_twenty_cases_go_in_few_batches_at_half_the_price(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """20 concurrent cases land in 1-3 batches, no plain Messages call, cost half of plain."""
    harness = batch_harness(server)
    started = trio.current_time()
    batched = await run_batch(
        wf, cases(20), concurrency=20, agents=AGENTS, harness=harness, timeout=None
    )
    assert batched.metrics.failed == 0
    assert [case.state["answer"] for case in batched.results] == [
        f"answer to solve problem {n}" for n in range(20)
    ]
    assert 1 <= server.batches.created <= 3
    assert not [r for r in server.requests if r.path == "/v1/messages"]
    assert len(server.batches.requests) == 20
    assert trio.current_time() - started >= 30.0  # it waited for the batch to end
    stats = harness.statistics()
    assert stats.batches.submitted == server.batches.created
    assert stats.batches.ended == stats.batches.submitted
    assert stats.batch_requests == 20

    plain = AnthropicHarness(MODEL, api_key=KEY, base_url=server.base_url, timeout=None)
    try:
        direct = await run_batch(
            wf, cases(20), concurrency=20, agents=AGENTS, harness=plain, timeout=None
        )
    finally:
        await plain.aclose()
        await harness.aclose()
    assert batched.metrics.usage == direct.metrics.usage
    assert direct.metrics.cost_usd is not None
    assert batched.metrics.cost_usd == direct.metrics.cost_usd / 2
    for one, other in zip(batched.results, direct.results, strict=True):
        price = estimate_cost(MODEL, one.usage)
        assert price is not None and other.cost_usd is not None
        assert one.cost_usd == price / 2 == other.cost_usd / 2


async def test_one_run_gets_one_delta_one_complete_and_usage(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """A batched turn's text arrives as one text:delta and one text:complete; harness:end
    reports the result's usage and the batch price."""
    async with batch_harness(server) as harness:
        result = await wf.run_reactive(
            agents=AGENTS, state=Case(1, "x"), harness=harness, timeout=None
        )
    names = [s.name for s in result.signals]
    assert names.count("text:delta") == 1
    assert names.count("text:complete") == 1
    end = next(s for s in result.signals if s.name == "harness:end")
    assert end.payload["output"] == "answer to solve x"
    assert end.payload["usage"]["input_tokens"] > 0
    price = estimate_cost(MODEL, result.metrics.usage)
    assert price is not None
    assert end.payload["cost_usd"] == pytest.approx(price / 2, rel=1e-12)
    assert end.source.harness == "anthropic-batch"


async def test_errored_result_fails_only_its_case(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """An errored result (invalid request) fails its own case with HarnessError; the other
    cases of the same batch complete."""

    def reply(request: RecordedRequest) -> FakeReply:
        if request.last_user_text == "solve problem 3":
            return http_error(400, message="prompt is too long")
        return answer(request)

    server.default = reply
    async with batch_harness(server) as harness:
        result = await run_batch(
            wf, cases(6), concurrency=6, agents=AGENTS, harness=harness, timeout=None
        )
    failed = [case for case in result.results if not case.ok]
    assert [case.case_id for case in failed] == ["3"]
    assert failed[0].error_type == "HarnessError"
    assert "invalid_request_error" in (failed[0].error or "")
    assert "prompt is too long" in (failed[0].error or "")
    assert server.batches.created == 1


async def test_retryable_results_are_asked_again(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """An expired result is asked again in a later batch (harness:retry); a canceled one
    fails its activation with a non-retryable HarnessError."""
    seen: dict[str, int] = {}

    def outcome(request: RecordedRequest) -> str | None:
        text = request.last_user_text
        seen[text] = seen.get(text, 0) + 1
        if text == "solve late" and seen[text] == 1:
            return "expired"
        if text == "solve dropped":
            return "canceled"
        return None

    server.batches.outcome = outcome
    async with batch_harness(server) as harness:
        late = await wf.run_reactive(
            agents=AGENTS, state=Case(1, "late"), harness=harness, timeout=None
        )
        with pytest.raises(HarnessError) as caught:
            await wf.run_reactive(
                agents=AGENTS, state=Case(2, "dropped"), harness=harness, timeout=None
            )
    assert late.state.answer == "answer to solve late"
    retry = next(s for s in late.signals if s.name == "harness:retry")
    assert retry.payload["code"] == "batch_expired"
    assert seen["solve late"] == 2
    assert caught.value.code == "batch_canceled"
    assert not caught.value.retryable
    assert caught.value.agent == "solver"


async def test_tool_loop_makes_one_pooled_request_per_turn(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """A tool turn and its follow-up are two batch requests; the tool runs in between."""
    calls: list[int] = []

    def square(n: int) -> int:
        """Square a number."""
        calls.append(n)
        return n * n

    server.script(tool_use_reply(("square", {"n": 7})), text_reply("49"))
    agent = wf.agent(
        prompt="square {{ text }}",
        activate_on=["workflow:start"],
        updates="answer",
        tools=[square],
    )
    async with batch_harness(server) as harness:
        result = await wf.run_reactive(
            agents={"calc": agent}, state=Case(1, "7"), harness=harness, timeout=None
        )
    assert result.state.answer == "49"
    assert calls == [7]
    assert server.batches.created == 2
    second = server.batches.requests[1]
    assert second.tool_results[0]["content"] == "49"
    assert [s.name for s in result.signals].count("tool:call") == 1


async def test_a_cancelled_driver_hands_the_batch_over(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """When the run driving a batch is cancelled, another run waiting on the same batch
    finishes polling it and gets its answer; the batch is not submitted twice."""
    harness = batch_harness(server)
    results: dict[str, Any] = {}

    async def run(text: str, scope: trio.CancelScope | None = None) -> None:
        result = await wf.run_reactive(
            agents=AGENTS, state=Case(1, text), harness=harness, timeout=None
        )
        results[text] = result.state.answer

    async with trio.open_nursery() as nursery:
        first = trio.CancelScope()

        async def first_run() -> None:
            with first:
                await run("first")

        nursery.start_soon(first_run)
        await trio.sleep(0.1)
        nursery.start_soon(run, "second")
        await server.batches.wait_created(1)
        await trio.sleep(1.0)  # both are waiting on the batch now
        first.cancel()
    await harness.aclose()
    assert results == {"second": "answer to solve second"}
    assert server.batches.created == 1


async def test_killed_journaled_batch_resumes_without_resubmitting(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """A batch driver killed after submitting, run again with the same journal, collects
    the journaled batch: every answer lands and the fake saw one batch only."""
    journal = Journal(store=MemorySignalStore())
    server.batches.processing_time = 600.0
    first = batch_harness(server, journal=journal)
    with trio.move_on_after(120):  # "killed" well before the batch ends
        await run_batch(wf, cases(8), concurrency=8, agents=AGENTS, harness=first, timeout=None)
    await first.aclose()
    assert server.batches.created == 1
    assert not any(r.path.endswith("/results") for r in server.requests)

    again = batch_harness(server, journal=journal)
    async with again:
        result = await run_batch(
            wf, cases(8), concurrency=8, agents=AGENTS, harness=again, timeout=None
        )
    assert result.metrics.failed == 0
    assert [case.state["answer"] for case in result.results] == [
        f"answer to solve problem {n}" for n in range(8)
    ]
    assert server.batches.created == 1
    assert again.statistics().batches.submitted == 0


async def test_progress_display_shows_model_batches(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """run_batch's progress line counts the harness's batches submitted, in flight, ended."""
    stream = io.StringIO()
    async with batch_harness(server) as harness:
        await run_batch(
            wf,
            cases(3),
            concurrency=3,
            agents=AGENTS,
            harness=harness,
            timeout=None,
            progress=ProgressPrinter(stream, every=0.0),
        )
    last = stream.getvalue().strip().splitlines()[-1]
    assert "model batches: 1 submitted, 0 in flight, 1 ended" in last


def test_options_are_checked() -> None:
    """Bad pooling options raise ValueError naming the option."""
    with pytest.raises(ValueError, match="max_batch_size"):
        AnthropicBatchHarness(api_key=KEY, max_batch_size=0)
    with pytest.raises(ValueError, match="poll_interval"):
        AnthropicBatchHarness(api_key=KEY, poll_interval=0)
    with pytest.raises(ValueError, match="max_wait"):
        AnthropicBatchHarness(api_key=KEY, max_wait=-1)


async def test_max_batch_size_splits_the_pool(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """A full pool is submitted at once; the rest go in the next batch."""
    async with batch_harness(server, max_batch_size=4, max_wait=60.0) as harness:
        result = await run_batch(
            wf, cases(10), concurrency=10, agents=AGENTS, harness=harness, timeout=None
        )
    assert result.metrics.failed == 0
    sizes = sorted(len(batch.requests) for batch in server.batches.batches.values())
    assert sizes == [2, 4, 4]


async def test_a_batch_that_cannot_be_created_fails_its_callers(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """A refused batch creation (HTTP 400) fails every activation pooled in it, each error
    naming its own agent, without retrying a non-retryable status."""
    server.batches.max_requests = 1
    agents = {
        name: wf.agent(
            prompt=f"{name} {{{{ text }}}}", activate_on=["workflow:start"], on_error="skip"
        )
        for name in ("solver", "checker")
    }
    async with batch_harness(server) as harness:
        result = await wf.run_reactive(
            agents=agents, state=Case(1, "x"), harness=harness, timeout=None
        )
    errors = [s for s in result.signals if s.name == "harness:error"]
    assert sorted(str(s.source.agent) for s in errors) == ["checker", "solver"]
    for signal in errors:
        assert signal.payload["code"] == "400"
        assert not signal.payload["retryable"]
        assert f"agent {signal.source.agent!r}" in signal.payload["message"]
    assert server.batches.created == 0
    assert len([r for r in server.requests if r.path == "/v1/messages/batches"]) == 1


async def test_a_request_cancelled_while_pooled_is_not_submitted(
    server: FakeAnthropic, clock: trio.testing.MockClock
) -> None:
    """An activation cancelled before its pool is submitted takes its request out: the batch
    holds only the requests still wanted."""
    async with batch_harness(server, max_wait=5.0) as harness:
        answers: list[str | None] = []

        async def run(text: str) -> None:
            result = await wf.run_reactive(
                agents=AGENTS, state=Case(1, text), harness=harness, timeout=None
            )
            answers.append(result.state.answer)

        quitter = trio.CancelScope()

        async def quitting() -> None:
            with quitter:
                await run("dropped")

        async with trio.open_nursery() as nursery:
            nursery.start_soon(run, "kept")
            nursery.start_soon(quitting)
            await trio.sleep(1.0)  # both are pooled; the pool is submitted at 5 s
            quitter.cancel()
    assert answers == ["answer to solve kept"]
    (batch,) = server.batches.batches.values()
    assert [r.last_user_text for r in batch.requests.values()] == ["solve kept"]
