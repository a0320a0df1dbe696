"""Supervision: on_error policies, OTP-style restarts with intensity, failures reported together."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    HarnessError,
    RestartIntensityError,
    RestartPolicy,
    ScriptedHarness,
    WorkflowDefinitionError,
    WorkflowResult,
    create_workflow,
)


@attrs.frozen
class State:
    a: str | None = None
    b: str | None = None
    fallback: str | None = None


wf = create_workflow(State)


def crash(message: str = "down") -> HarnessError:
    return HarnessError(message, code="500")


def names_for(result: WorkflowResult[Any], name: str) -> list[dict[str, Any]]:
    return [s.payload for s in result.signals if s.name == name]


async def test_on_error_skip_carries_on() -> None:
    """on_error='skip' records agent:failed and the run completes without that update."""
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="a", on_error="skip")
    b = wf.agent(prompt="b", activate_on=["workflow:start"], updates="b")
    result = await wf.run_reactive(
        agents={"a": a, "b": b}, state=State(), harness=ScriptedHarness({"a": crash(), "b": "ok"})
    )
    assert result.status == "completed"
    assert result.state == State(b="ok")
    assert [p["agent"] for p in names_for(result, "agent:failed")] == ["a"]
    assert result.metrics.agents["a"].failed == 1


async def test_on_error_emit_lets_others_react() -> None:
    """on_error='emit' publishes error_signal; a fallback agent wakes on it."""
    a = wf.agent(
        prompt="a",
        activate_on=["workflow:start"],
        updates="a",
        on_error="emit",
        error_signal="a:broken",
    )
    fallback = wf.agent(
        prompt="fix {{ signal.payload.error }}", activate_on=["a:broken"], updates="fallback"
    )
    result = await wf.run_reactive(
        agents={"a": a, "fallback": fallback},
        state=State(),
        harness=ScriptedHarness({"a": crash("boom"), "fallback": lambda r: r.prompt}),
    )
    assert result.state.fallback == "fix boom"
    broken = names_for(result, "a:broken")
    assert broken == [
        {"agent": "a", "error": "boom", "error_type": "HarnessError", "trigger": "workflow:start"}
    ]


def test_on_error_validation() -> None:
    """emit needs a valid error_signal; unknown policies are refused."""
    with pytest.raises(WorkflowDefinitionError, match="needs error_signal"):
        wf.agent(prompt="a", activate_on=["x"], on_error="emit")
    with pytest.raises(WorkflowDefinitionError, match="on_error must be one of"):
        wf.agent(prompt="a", activate_on=["x"], on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(WorkflowDefinitionError, match="reserved namespace"):
        wf.agent(prompt="a", activate_on=["x"], on_error="emit", error_signal="agent:oops")


async def test_one_for_one_restart_recovers() -> None:
    """A harness failing twice then succeeding: two restarts, then the run completes."""
    harness = ScriptedHarness({"a": [crash("1"), crash("2"), "fine"]})
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="a")
    result = await wf.run_reactive(
        agents={"a": a}, state=State(), harness=harness, restart=RestartPolicy(max_restarts=3)
    )
    assert result.state.a == "fine"
    assert harness.count("a") == 3
    assert [p["error"] for p in names_for(result, "agent:failed")] == ["1", "2"]
    assert [p["restart"] for p in names_for(result, "agent:restarted")] == [1, 2]
    assert result.metrics.agents["a"].restarts == 2


async def test_crash_loop_exhausts_restart_intensity() -> None:
    """Crashing on every attempt exceeds the intensity; the error lists every cause."""
    harness = ScriptedHarness({"a": [crash(f"cause {i}") for i in range(10)]})
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="a")
    with pytest.raises(RestartIntensityError) as info:
        await wf.run_reactive(
            agents={"a": a},
            state=State(),
            harness=harness,
            restart=RestartPolicy(max_restarts=2, period=60),
        )
    error = info.value
    assert [str(c) for c in error.causes] == ["cause 0", "cause 1", "cause 2"]
    for i in range(3):
        assert f"cause {i}" in str(error)
    assert harness.count("a") == 3
    assert error.partial is not None
    assert len(names_for(error.partial, "agent:restarted")) == 2


async def test_restarts_outside_the_period_do_not_count(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Crashes spaced further apart than the period never exhaust the intensity."""
    harness = ScriptedHarness({"a": [crash(), crash(), crash(), "ok"]}, delay=10.0)
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="a")
    result = await wf.run_reactive(
        agents={"a": a},
        state=State(),
        harness=harness,
        restart=RestartPolicy(max_restarts=1, period=5.0),
    )
    assert result.state.a == "ok"


@pytest.mark.parametrize("strategy", ["one_for_one", "one_for_all"])
async def test_restart_strategies(strategy: str, autojump_clock: trio.testing.MockClock) -> None:
    """one_for_one restarts only the crashed agent; one_for_all also restarts the others' work."""
    harness = ScriptedHarness({"a": [crash(), "A"], "b": "B"}, delay={"a": 1.0, "b": 5.0})
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="a")
    b = wf.agent(prompt="b", activate_on=["workflow:start"], updates="b")
    result = await wf.run_reactive(
        agents={"a": a, "b": b},
        state=State(),
        harness=harness,
        restart=RestartPolicy(strategy=strategy),  # type: ignore[arg-type]
    )
    assert result.state == State(a="A", b="B")
    restarted = [p["agent"] for p in names_for(result, "agent:restarted")]
    cancelled = names_for(result, "agent:cancelled")
    if strategy == "one_for_one":
        assert restarted == ["a"]
        assert cancelled == []
        assert harness.count("b") == 1
    else:
        assert restarted == ["a", "b"]
        assert cancelled == [{"agent": "b", "reason": "restart"}]
        assert harness.count("b") == 2
        assert result.metrics.agents["b"].restarts == 1


async def test_several_failures_reported_together(autojump_clock: trio.testing.MockClock) -> None:
    """Agents failing at the same moment are all reported: failures, notes and workflow:end."""
    harness = ScriptedHarness({"a": crash("a broke"), "b": crash("b broke")}, delay=1.0)
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="a")
    b = wf.agent(prompt="b", activate_on=["workflow:start"], updates="b")
    with pytest.raises(HarnessError) as info:
        await wf.run_reactive(agents={"a": a, "b": b}, state=State(), harness=harness)
    error = info.value
    assert {str(f) for f in error.failures} == {"a broke", "b broke"}
    assert any("also failed" in note for note in error.__notes__)
    assert error.partial is not None
    end = error.partial.signals[-1]
    assert {e["agent"] for e in end.payload["errors"]} == {"a", "b"}
