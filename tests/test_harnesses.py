"""Scripted and function harnesses: deterministic replies, chunking, failures, counting."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    FunctionHarness,
    HarnessError,
    HarnessRequest,
    HarnessResult,
    ScriptedHarness,
    Usage,
    create_workflow,
)
from openharness_actors.harness import HarnessEvent, TextDelta


def request(agent: str = "a", prompt: str = "p") -> HarnessRequest:
    return HarnessRequest(agent=agent, prompt=prompt, run_id="run")


async def collect(harness: Any, req: HarnessRequest) -> tuple[HarnessResult, list[HarnessEvent]]:
    events: list[HarnessEvent] = []

    async def emit(event: HarnessEvent) -> None:
        events.append(event)

    return await harness.run(req, emit), events


async def test_scripted_sequence_then_exhausted() -> None:
    """A list of replies is used in turn; running out raises HarnessError naming the agent."""
    harness = ScriptedHarness({"a": ["one", "two"]})
    assert (await collect(harness, request()))[0].output == "one"
    assert (await collect(harness, request()))[0].output == "two"
    with pytest.raises(HarnessError, match="'a' ran out after 2 calls"):
        await collect(harness, request())
    assert harness.count("a") == 3


async def test_scripted_chunks_into_deltas() -> None:
    """chunk_size splits the reply into text:delta events followed by text:complete."""
    result, events = await collect(ScriptedHarness(default="abcdefg", chunk_size=3), request())
    deltas = [e.content for e in events if isinstance(e, TextDelta)]
    assert deltas == ["abc", "def", "g"]
    assert events[-1].signal_name == "text:complete"
    assert result.usage == Usage(input_tokens=1, output_tokens=2)


async def test_scripted_delay_follows_trio_clock(autojump_clock: trio.testing.MockClock) -> None:
    """delay sleeps on trio's clock, per agent when given a mapping."""
    harness = ScriptedHarness(default="x", delay={"slow": 7.0})
    start = trio.current_time()
    await collect(harness, request("slow"))
    assert trio.current_time() - start == 7.0
    await collect(harness, request("fast"))
    assert trio.current_time() - start == 7.0


async def test_scripted_callable_and_async_callable() -> None:
    """Callables (sync or async) receive the request and return the reply."""

    async def shout(req: HarnessRequest) -> str:
        return req.prompt.upper()

    harness = ScriptedHarness({"a": lambda r: r.prompt * 2, "b": shout})
    assert (await collect(harness, request("a", "x")))[0].output == "xx"
    assert (await collect(harness, request("b", "y")))[0].output == "Y"


async def test_scripted_injected_failures() -> None:
    """Exceptions in a script are raised; plain ones are wrapped with the cause chained."""
    boom = ValueError("boom")
    harness = ScriptedHarness({"a": [HarnessError("x", retryable=True), boom]})
    with pytest.raises(HarnessError) as first:
        await collect(harness, request())
    assert first.value.retryable
    with pytest.raises(HarnessError) as second:
        await collect(harness, request())
    assert second.value.__cause__ is boom


async def test_unknown_agent_without_default() -> None:
    """An agent with no script and no default fails clearly."""
    with pytest.raises(HarnessError, match="no scripted reply for agent 'zz'"):
        await collect(ScriptedHarness({"a": "x"}), request("zz"))


async def test_function_harness_in_a_run() -> None:
    """FunctionHarness turns a Python function into a harness; its errors become HarnessError."""

    @attrs.frozen
    class State:
        q: str
        a: str | None = None

    wf = create_workflow(State)
    agent = wf.agent(prompt="{{ q }}", activate_on=["workflow:start"], updates="a")

    def answer(req: HarnessRequest) -> HarnessResult:
        return HarnessResult(output=req.prompt[::-1], usage=Usage(input_tokens=5))

    result = await wf.run_reactive(
        agents={"x": agent}, state=State("abc"), harness=FunctionHarness(answer)
    )
    assert result.state.a == "cba"
    assert result.metrics.usage.input_tokens == 5

    def broken(req: HarnessRequest) -> str:
        raise OSError("disk")

    with pytest.raises(HarnessError) as info:
        await wf.run_reactive(
            agents={"x": agent}, state=State("abc"), harness=FunctionHarness(broken)
        )
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.agent == "x"
