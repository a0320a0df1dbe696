"""Budgets: a run or a batch stops starting model calls once its spend reaches the budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from openharness_actors import (
    AnthropicHarness,
    Budget,
    BudgetExceededError,
    ScriptedHarness,
    Spend,
    create_workflow,
    run_batch,
)
from openharness_actors.batch._results import BatchResult
from openharness_actors.testing.fake_anthropic import open_fake_anthropic

KEY = "sk-ant-test-key-0123456789"


def chain(length: int) -> tuple[Any, dict[str, Any]]:
    """A workflow of ``length`` agents, each woken by the one before (a0 by the start)."""
    wf = create_workflow(dict)
    agents = {}
    for n in range(length):
        agents[f"a{n}"] = wf.agent(
            prompt="step",
            activate_on=["workflow:start" if n == 0 else f"step:{n - 1}"],
            emits=[f"step:{n}"],
            updates=f"s{n}",
        )
    return wf, agents


def chain_state(length: int) -> dict[str, Any]:
    return {f"s{n}": None for n in range(length)}


async def test_budget_stops_a_ten_agent_chain_after_the_calls_it_affords() -> None:
    """Each call spends one output token; a 3-token budget lets a0..a2 run, refuses a3 and
    raises BudgetExceededError with the spend, per-agent figures and the partial result."""
    wf, agents = chain(10)
    harness = ScriptedHarness(default="abcd")  # one output token a call
    with pytest.raises(BudgetExceededError) as caught:
        await wf.run_reactive(
            agents=agents, state=chain_state(10), harness=harness, budget=Budget(output_tokens=3)
        )
    error = caught.value
    assert len(harness.calls) == 3
    assert error.spent.calls == 3
    assert error.spent.output_tokens == 3
    assert sorted(error.by_agent) == ["a0", "a1", "a2"]
    assert error.budget == Budget(output_tokens=3)
    partial = error.partial
    assert partial is not None
    assert [partial.state[f"s{n}"] for n in range(4)] == ["abcd", "abcd", "abcd", None]
    refused = [s for s in partial.signals if s.name == "harness:error"]
    assert [s.payload["code"] for s in refused] == ["budget_exceeded"]
    assert refused[0].source.agent == "a3"
    assert isinstance(error.__cause__, Exception)


async def test_usd_budget_with_the_anthropic_harness() -> None:
    """A USD budget counts AnthropicHarness's cost estimates; the chain stops once reached."""
    wf, agents = chain(10)
    async with open_fake_anthropic() as server:
        harness = AnthropicHarness("claude-sonnet-4-5", api_key=KEY, base_url=server.base_url)
        async with harness:
            probe = await wf.run_reactive(
                agents={"a0": agents["a0"]}, state={"s0": None}, harness=harness
            )
            per_call = probe.metrics.cost_usd
            assert per_call is not None and per_call > 0
            server.requests.clear()
            with pytest.raises(BudgetExceededError) as caught:
                await wf.run_reactive(
                    agents=agents,
                    state=chain_state(10),
                    harness=harness,
                    budget=Budget(usd=per_call * 4.5),
                )
    assert len(server.requests) == 5
    assert caught.value.spent.calls == 5
    assert caught.value.spent.usd == pytest.approx(per_call * 5)


async def test_overshoot_is_bounded_by_the_calls_in_flight(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Five agents start at once under a one-token budget: all five were in flight when it
    was reached, so five are charged and the next call (a follow-up) is refused."""
    wf = create_workflow(dict)
    agents = {
        f"p{n}": wf.agent(
            prompt="go", activate_on=["workflow:start"], emits=["done"], updates=f"p{n}"
        )
        for n in range(5)
    }
    agents["after"] = wf.agent(prompt="next", activate_on=["done"], updates="after")
    harness = ScriptedHarness(default="abcd", delay=0.5)
    with pytest.raises(BudgetExceededError) as caught:
        await wf.run_reactive(
            agents=agents,
            state={"after": None, **{f"p{n}": None for n in range(5)}},
            harness=harness,
            budget=Budget(output_tokens=1),
        )
    assert caught.value.spent.calls == 5
    assert caught.value.partial is not None
    assert caught.value.partial.state["after"] is None


async def test_a_run_within_its_budget_completes() -> None:
    """A run that never reaches its budget returns normally."""
    wf, agents = chain(3)
    result = await wf.run_reactive(
        agents=agents,
        state=chain_state(3),
        harness=ScriptedHarness(default="abcd"),
        budget=Budget(output_tokens=100, input_tokens=100, usd=1.0),
    )
    assert result.state["s2"] == "abcd"


async def test_batch_budget_stops_starting_cases(tmp_path: Path) -> None:
    """A batch budget shared by its cases stops starting cases once spent, raises with the
    partial BatchResult, and a rerun with a larger budget finishes the cases never started."""
    wf = create_workflow(dict)
    agents = {"solo": wf.agent(prompt="go {{ n }}", activate_on=["workflow:start"], updates="out")}
    harness = ScriptedHarness(default="abcd")
    inputs = [{"id": n, "n": n, "out": None} for n in range(10)]
    results = tmp_path / "results.jsonl"
    with pytest.raises(BudgetExceededError) as caught:
        await run_batch(
            wf,
            inputs,
            concurrency=2,
            agents=agents,
            harness=harness,
            results_path=results,
            budget=Budget(output_tokens=4),
        )
    partial = caught.value.partial
    assert isinstance(partial, BatchResult)
    assert len(harness.calls) <= 4 + 2  # the budget, plus at most the calls in flight
    started = len(partial.results)
    assert 4 <= started < 10
    assert all(r.error_type != "BudgetExceededError" for r in partial.results)  # left pending
    assert caught.value.spent.calls == len(harness.calls)
    assert caught.value.by_agent["solo"].calls == len(harness.calls)

    more = ScriptedHarness(default="abcd")
    finished = await run_batch(
        wf,
        inputs,
        concurrency=2,
        agents=agents,
        harness=more,
        results_path=results,
        budget=Budget(output_tokens=100),
    )
    assert finished.metrics.cases == 10
    assert len(more.calls) == 10 - sum(1 for r in partial.results if r.ok)


async def test_concurrent_batch_cases_share_the_budget(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """With many cases in flight, the calls started never exceed the budget by more than
    the cases running at once."""
    wf = create_workflow(dict)
    agents = {"solo": wf.agent(prompt="go {{ n }}", activate_on=["workflow:start"], updates="out")}
    harness = ScriptedHarness(default="abcd", delay=1.0)
    with pytest.raises(BudgetExceededError) as caught:
        await run_batch(
            wf,
            [{"n": n, "out": None} for n in range(50)],
            concurrency=5,
            agents=agents,
            harness=harness,
            budget=Budget(output_tokens=12),
        )
    assert 12 <= len(harness.calls) <= 12 + 5
    assert caught.value.spent.output_tokens == len(harness.calls)


def test_budget_values_are_checked() -> None:
    """Negative or wrongly typed limits are refused, naming the limit."""
    with pytest.raises(ValueError, match="usd"):
        Budget(usd=-1)
    with pytest.raises(TypeError, match="input_tokens"):
        Budget(input_tokens=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="output_tokens"):
        Budget(output_tokens=True)
    assert Budget(usd=0.5).reached_by(Spend(usd=0.5))
    assert not Budget(usd=0.5, output_tokens=3).reached_by(Spend(usd=0.4, output_tokens=2))
