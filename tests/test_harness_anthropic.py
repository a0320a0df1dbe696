"""AnthropicHarness against the fake Messages API: streaming, requests, tools, output, cost."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import pytest
import trio

from openharness_actors import (
    AnthropicHarness,
    ClaudeHarness,
    HarnessError,
    OutputParseError,
    RetryPolicy,
    Usage,
    WorkflowDefinitionError,
    create_workflow,
)
from openharness_actors.testing.fake_anthropic import (
    FakeAnthropic,
    FakeToolUse,
    open_fake_anthropic,
    text_reply,
    tool_use_reply,
)

KEY = "sk-ant-test-key-0123456789"
MODEL = "claude-sonnet-5-5"


@attrs.frozen
class State:
    input: str
    result: Any = None


@attrs.frozen
class Verdict:
    """A judgement of the input."""

    label: str
    score: float
    tags: list[str] = attrs.Factory(list)


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropic]:
    async with open_fake_anthropic(chunk_size=5) as fake:
        yield fake


@pytest.fixture
async def make_harness(server: FakeAnthropic) -> AsyncIterator[Callable[..., AnthropicHarness]]:
    made: list[AnthropicHarness] = []

    def make(**options: Any) -> AnthropicHarness:
        options.setdefault("api_key", KEY)
        options.setdefault("base_url", server.base_url)
        options.setdefault("model", MODEL)
        options.setdefault("retry", RetryPolicy(initial_delay=0.01, max_delay=0.05, jitter=0))
        harness = AnthropicHarness(**options)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.aclose()


def one_agent(**options: Any) -> tuple[Any, dict[str, Any]]:
    wf = create_workflow(State)
    options.setdefault("prompt", "Analyze: {{ state.input }}")
    agent = wf.agent(activate_on=["workflow:start"], updates="result", **options)
    return wf, {"analyzer": agent}


async def test_streamed_text_reaches_state(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """The streamed reply is published delta by delta and its full text is committed to state."""
    server.script(text_reply("The input is a friendly greeting."))
    wf, agents = one_agent()
    result = await wf.run_reactive(
        agents=agents, state=State("hello"), harness=make_harness(), timeout=10
    )
    assert result.state.result == "The input is a friendly greeting."
    deltas = [s.payload["content"] for s in result.signals_named("text:delta")]
    assert len(deltas) > 1
    assert "".join(deltas) == result.state.result
    assert [s.payload["content"] for s in result.signals_named("text:complete")] == [
        result.state.result
    ]
    (end,) = result.signals_named("harness:end")
    assert end.payload["stop_reason"] == "end_turn"
    assert end.payload["model"] == MODEL
    assert end.payload["usage"]["input_tokens"] > 0
    assert end.payload["usage"]["output_tokens"] > 0
    (activated,) = result.signals_named("agent:activated")
    for signal in result.signals_named("harness:*") + result.signals_named("text:*"):
        assert signal.source.agent == "analyzer"
        assert signal.source.parent == activated.id


async def test_request_carries_prompt_system_and_model(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """The rendered prompt is the user message; the agent's system and model override defaults."""
    wf = create_workflow(State)
    agents = {
        "plain": wf.agent(prompt="Plain {{ state.input }}", activate_on=["workflow:start"]),
        "custom": wf.agent(
            prompt="Custom {{ state.input }}",
            system="You judge {{ state.input }}.",
            model="claude-haiku-4-5",
            activate_on=["workflow:start"],
        ),
    }
    harness = make_harness(system="Default system.", max_tokens=321, temperature=0.5)
    await wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
    by_prompt = {request.last_user_text: request for request in server.requests}
    plain, custom = by_prompt["Plain x"], by_prompt["Custom x"]
    assert plain.model == MODEL
    assert plain.system == "Default system."
    assert custom.model == "claude-haiku-4-5"
    assert custom.system == "You judge x."
    assert plain.body["max_tokens"] == 321
    assert plain.body["temperature"] == 0.5
    assert plain.body["stream"] is True
    assert "thinking" not in plain.body
    assert plain.api_key == KEY
    assert plain.headers["x-stainless-async"] == "async:trio"  # the SDK runs on trio itself


async def test_extended_thinking_is_requested_and_streamed(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A thinking budget is sent, and reasoning streams as thinking:delta/thinking:complete."""
    server.script(text_reply("42", thinking="Six times seven."))
    wf, agents = one_agent()
    harness = make_harness(thinking=2048, max_tokens=4096)
    result = await wf.run_reactive(agents=agents, state=State("q"), harness=harness, timeout=10)
    assert server.requests[0].body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert (
        "".join(s.payload["content"] for s in result.signals_named("thinking:delta"))
        == "Six times seven."
    )
    assert [s.payload["content"] for s in result.signals_named("thinking:complete")] == [
        "Six times seven."
    ]
    names = [s.name for s in result.signals]
    assert names.index("thinking:complete") < names.index("text:delta")
    assert result.state.result == "42"
    adaptive = make_harness(thinking="adaptive")
    await wf.run_reactive(agents=agents, state=State("q"), harness=adaptive, timeout=10)
    assert server.requests[1].body["thinking"] == {"type": "adaptive"}


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first addend.
        b: The second addend.
    """
    return a + b


async def lookup(city: str, unit: str = "celsius") -> dict[str, Any]:
    """Look up the weather of a city."""
    await trio.lowlevel.checkpoint()
    return {"city": city, "temperature": 21, "unit": unit}


def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"boom: {reason}")


async def test_tool_loop_with_two_tools(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """The model's tool calls run, their results go back, and the loop ends with the final text."""
    server.script(
        tool_use_reply(FakeToolUse("add", {"a": 2, "b": 3}, id="toolu_a"), text="Let me add."),
        tool_use_reply(FakeToolUse("lookup", {"city": "Paris"}, id="toolu_b")),
        text_reply("2 + 3 = 5 and Paris is at 21 degrees."),
    )
    wf, agents = one_agent(tools=[add, lookup])
    result = await wf.run_reactive(
        agents=agents, state=State("go"), harness=make_harness(), timeout=10
    )
    assert result.state.result == "2 + 3 = 5 and Paris is at 21 degrees."
    first, second, third = server.requests
    tools = {tool["name"]: tool for tool in first.tools}
    assert tools["add"]["description"] == "Add two integers."
    assert tools["add"]["input_schema"] == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "The first addend."},
            "b": {"type": "integer", "description": "The second addend."},
        },
        "required": ["a", "b"],
    }
    assert tools["lookup"]["input_schema"]["required"] == ["city"]
    assert second.tool_results == [
        {"type": "tool_result", "tool_use_id": "toolu_a", "content": "5"}
    ]
    assert second.messages[1]["content"][0] == {"type": "text", "text": "Let me add."}
    (looked_up,) = third.tool_results
    assert json.loads(looked_up["content"]) == {
        "city": "Paris",
        "temperature": 21,
        "unit": "celsius",
    }
    calls = [(s.payload["name"], s.payload["input"]) for s in result.signals_named("tool:call")]
    assert calls == [("add", {"a": 2, "b": 3}), ("lookup", {"city": "Paris"})]
    results = [
        (s.payload["id"], s.payload["result"], s.payload["error"])
        for s in result.signals_named("tool:result")
    ]
    assert results[0] == ("toolu_a", 5, None)
    assert results[1][1]["city"] == "Paris"
    (end,) = result.signals_named("harness:end")
    total = sum(
        request.reply.usage.input_tokens if request.reply and request.reply.usage else 0
        for request in server.requests
    )
    assert end.payload["usage"]["input_tokens"] >= total


async def test_tool_errors_go_back_to_the_model(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A raising tool, bad input and an unknown tool become is_error results and errors."""
    server.script(
        tool_use_reply(
            FakeToolUse("explode", {"reason": "test"}, id="t1"),
            FakeToolUse("add", {"a": "not a number", "b": 1}, id="t2"),
            FakeToolUse("missing", {}, id="t3"),
        ),
        text_reply("Sorry."),
    )
    wf, agents = one_agent(tools=[explode, add])
    result = await wf.run_reactive(
        agents=agents, state=State("go"), harness=make_harness(), timeout=10
    )
    assert result.state.result == "Sorry."
    returned = {block["tool_use_id"]: block for block in server.requests[1].tool_results}
    assert [block["tool_use_id"] for block in server.requests[1].tool_results] == ["t1", "t2", "t3"]
    assert all(block["is_error"] for block in returned.values())
    assert returned["t1"]["content"] == "RuntimeError: boom: test"
    assert "parameter 'a'" in returned["t2"]["content"]
    assert "no tool named 'missing'" in returned["t3"]["content"]
    errors = {s.payload["id"]: s.payload["error"] for s in result.signals_named("tool:result")}
    assert errors["t1"] == "RuntimeError: boom: test"
    assert errors["t2"]
    assert errors["t3"]


async def test_tool_turns_are_bounded(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A model that keeps asking for tools past max_tool_turns fails the activation."""
    server.default = tool_use_reply(("add", {"a": 1, "b": 1}))
    wf, agents = one_agent(tools=[add])
    with pytest.raises(HarnessError) as caught:
        await wf.run_reactive(
            agents=agents, state=State("go"), harness=make_harness(max_tool_turns=2), timeout=10
        )
    assert caught.value.code == "max_tool_turns"
    assert caught.value.agent == "analyzer"
    assert len(server.requests) == 3


async def test_structured_output_valid(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """With output=T the schema is in the system prompt and the JSON reply is structured into T."""
    server.script(text_reply('{"label": "positive", "score": 0.9, "tags": ["kind"]}'))
    wf, agents = one_agent(output=Verdict, system="You are a judge.")
    result = await wf.run_reactive(
        agents=agents, state=State("I love it"), harness=make_harness(), timeout=10
    )
    assert result.state.result == Verdict("positive", 0.9, ["kind"])
    system = server.requests[0].system
    assert system.startswith("You are a judge.\n\n")
    schema = json.loads(system.split("<json_schema>\n", 1)[1].split("\n</json_schema>", 1)[0])
    assert schema["properties"]["score"] == {"type": "number"}
    assert schema["required"] == ["label", "score"]
    assert len(server.requests) == 1


async def test_structured_output_invalid_raises_with_raw_text(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A reply that does not fit the output type fails with the raw text shown (no repair)."""
    server.script(text_reply('{"label": "positive"}'))
    wf, agents = one_agent(output=Verdict)
    with pytest.raises(OutputParseError) as caught:
        await wf.run_reactive(
            agents=agents, state=State("x"), harness=make_harness(repair_output=False), timeout=10
        )
    assert caught.value.raw == '{"label": "positive"}'
    assert "score" in str(caught.value)
    assert '{"label": "positive"}' in str(caught.value)
    assert len(server.requests) == 1


async def test_structured_output_gets_one_repair_turn(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """An unparsable reply gets one follow-up turn naming the problem; its answer is used."""
    server.script(
        text_reply("Sure! It is positive."),
        text_reply('{"label": "positive", "score": 1}'),
    )
    wf, agents = one_agent(output=Verdict)
    result = await wf.run_reactive(
        agents=agents, state=State("x"), harness=make_harness(), timeout=10
    )
    assert result.state.result == Verdict("positive", 1.0)
    repair = server.requests[1]
    assert repair.messages[1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Sure! It is positive."}],
    }
    assert "not JSON" in repair.last_user_text


async def test_structured_output_still_invalid_after_repair(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """When the repair turn's answer does not fit either, the run fails with OutputParseError."""
    server.default = text_reply("no JSON here")
    wf, agents = one_agent(output=Verdict)
    with pytest.raises(OutputParseError):
        await wf.run_reactive(agents=agents, state=State("x"), harness=make_harness(), timeout=10)
    assert len(server.requests) == 2


async def test_usage_and_cost_reach_metrics(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """Reported usage (cache tokens included) is summed per agent and priced from the table."""
    usage = Usage(
        input_tokens=1000,
        output_tokens=500,
        cache_read_input_tokens=2000,
        cache_creation_input_tokens=100,
    )
    server.script(text_reply("a", usage=usage))
    wf, agents = one_agent()
    result = await wf.run_reactive(
        agents=agents, state=State("x"), harness=make_harness(), timeout=10
    )
    expected = (1000 * 2.0 + 500 * 10.0 + 2000 * 0.10 + 100 * 2.50) / 1_000_000
    figures = result.metrics.agents["analyzer"]
    assert figures.usage == usage
    assert figures.cost_usd == pytest.approx(expected)
    assert result.metrics.cost_usd == pytest.approx(expected)
    (end,) = result.signals_named("harness:end")
    assert end.payload["cost_usd"] == pytest.approx(expected)


async def test_unknown_model_has_no_cost(
    server: FakeAnthropic, make_harness: Callable[..., AnthropicHarness]
) -> None:
    """A model missing from the price table reports usage but no cost."""
    wf, agents = one_agent()
    harness = make_harness(model="claude-unreleased-9")
    result = await wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
    assert result.metrics.agents["analyzer"].usage.input_tokens > 0
    assert result.metrics.agents["analyzer"].cost_usd is None


async def test_preflight_without_key_fails_before_any_signal(server: FakeAnthropic) -> None:
    """Without ANTHROPIC_API_KEY or api_key the run fails up front with a clear error."""
    wf, agents = one_agent()
    async with AnthropicHarness(base_url=server.base_url) as harness:
        with pytest.raises(WorkflowDefinitionError, match="ANTHROPIC_API_KEY"):
            await wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
    assert server.requests == []


async def test_key_from_environment(server: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    """ANTHROPIC_API_KEY is used when no key is passed."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    wf, agents = one_agent()
    async with ClaudeHarness(base_url=server.base_url) as harness:
        result = await wf.run_reactive(agents=agents, state=State("x"), harness=harness, timeout=10)
    assert result.state.result == "Hello from the fake Messages API."
    assert server.requests[0].api_key == KEY
    assert server.requests[0].model == "claude-sonnet-5-5"


def test_options_are_validated() -> None:
    """Impossible options are refused when the harness is made."""
    with pytest.raises(ValueError, match="thinking"):
        AnthropicHarness(thinking=100)
    with pytest.raises(ValueError, match="max_concurrency"):
        AnthropicHarness(max_concurrency=0)
    with pytest.raises(ValueError, match="timeout"):
        AnthropicHarness(timeout=0)
    assert ClaudeHarness is AnthropicHarness
