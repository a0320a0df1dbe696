"""Prompt caching: cache=True marks the system prompt and tools; the fake server accounts
cache writes and reads; usage and cost report them."""

from __future__ import annotations

import trio
import trio.testing

from openharness_actors import AnthropicBatchHarness, AnthropicHarness, Usage, create_workflow
from openharness_actors.harness._pricing import estimate_cost, model_price
from openharness_actors.testing.fake_anthropic import open_fake_anthropic

KEY = "sk-ant-test-key-0123456789"
MODEL = "claude-sonnet-4-5"
SYSTEM = "You are a careful grader. " * 40

wf = create_workflow(dict)


def lookup(word: str) -> str:
    """Look a word up."""
    return word


grader = wf.agent(
    prompt="grade {{ text }}",
    system=SYSTEM,
    activate_on=["workflow:start"],
    updates="out",
    tools=[lookup],
)


async def test_second_call_reads_the_cache() -> None:
    """With cache=True the first call writes the cached prefix and the second reads it;
    harness:end usage shows both and the cost is priced at the cache rates."""
    async with (
        open_fake_anthropic() as server,
        AnthropicHarness(MODEL, api_key=KEY, base_url=server.base_url, cache=True) as harness,
    ):
        first = await wf.run_reactive(
            agents={"grader": grader}, state={"text": "a", "out": None}, harness=harness
        )
        second = await wf.run_reactive(
            agents={"grader": grader}, state={"text": "b", "out": None}, harness=harness
        )
    body = server.requests[0].body
    assert body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert body["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    usages = [
        Usage(**next(s for s in run.signals if s.name == "harness:end").payload["usage"])
        for run in (first, second)
    ]
    assert usages[0].cache_creation_input_tokens > 0
    assert usages[0].cache_read_input_tokens == 0
    assert usages[1].cache_read_input_tokens == usages[0].cache_creation_input_tokens
    assert usages[1].cache_creation_input_tokens == 0
    price = model_price(MODEL)
    assert price is not None
    assert second.metrics.cost_usd == estimate_cost(MODEL, usages[1])
    uncached = Usage(
        usages[1].input_tokens + usages[1].cache_read_input_tokens, usages[1].output_tokens
    )
    cached_cost, plain_cost = estimate_cost(MODEL, usages[1]), estimate_cost(MODEL, uncached)
    assert cached_cost is not None and plain_cost is not None
    assert cached_cost < plain_cost


async def test_without_cache_nothing_is_marked() -> None:
    """The default sends the system prompt as a string and reports no cache traffic."""
    async with (
        open_fake_anthropic() as server,
        AnthropicHarness(MODEL, api_key=KEY, base_url=server.base_url) as harness,
    ):
        for text in ("a", "b"):
            result = await wf.run_reactive(
                agents={"grader": grader}, state={"text": text, "out": None}, harness=harness
            )
    assert server.requests[1].body["system"] == SYSTEM
    assert "cache_control" not in server.requests[1].body["tools"][-1]
    assert result.metrics.usage.cache_read_input_tokens == 0


async def test_batch_harness_caches_too(autojump_clock: trio.testing.MockClock) -> None:
    """The batch harness with cache=True sends marked requests in its batches, and a later
    batch reads what an earlier one wrote."""
    async with (
        open_fake_anthropic() as server,
        AnthropicBatchHarness(
            MODEL, api_key=KEY, base_url=server.base_url, cache=True, timeout=None
        ) as harness,
    ):
        for text in ("a", "b"):
            result = await wf.run_reactive(
                agents={"grader": grader}, state={"text": text, "out": None}, harness=harness
            )
    assert server.batches.created == 2
    assert server.batches.requests[0].body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert result.metrics.usage.cache_read_input_tokens > 0
