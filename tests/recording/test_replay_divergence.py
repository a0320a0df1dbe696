"""Divergence: a replayed run that asks something else fails with a precise, readable error."""

from __future__ import annotations

from typing import Any

import pytest

from openharness_actors import (
    HarnessError,
    MemorySignalStore,
    Recording,
    ReplayDivergenceError,
    WorkflowDefinitionError,
    open_engine,
)
from openharness_actors.recording import Divergence
from openharness_actors.testing import assert_signal

from .recording_scenario import RichHarness, Scenario


async def recorded_store(scenario: Scenario) -> MemorySignalStore:
    store = MemorySignalStore()
    await scenario.workflow.run_reactive(
        **scenario.options(
            harness=RichHarness(), recording=Recording(mode="record", store=store, name="research")
        )
    )
    return store


def researcher(
    scenario: Scenario, name: str, prompt: str, activate_on: Any = "workflow:start"
) -> Any:
    return scenario.workflow.agent(
        prompt=prompt,
        system="You are a careful researcher.",
        activate_on=activate_on,
        updates=name,
        emits=["research:done"],
    )


async def replay(scenario: Scenario, store: MemorySignalStore, **overrides: Any) -> Any:
    recording = Recording(
        mode="replay",
        store=store,
        name="research",
        collect_divergences=overrides.pop("collect", False),
    )
    return await scenario.workflow.run_reactive(
        **scenario.options(recording=recording, **overrides)
    )


async def test_edited_prompt_names_agent_occurrence_and_diff(scenario: Scenario) -> None:
    """Editing a prompt gives a divergence naming the agent and occurrence 1, with a unified
    diff of the prompt line against the recorded ask; the run's partial result and a
    ``harness:error`` with code ``replay_divergence`` are kept."""
    store = await recorded_store(scenario)
    agents = dict(scenario.agents)
    agents["beta"] = researcher(scenario, "beta", "Research {{ state.topic }} from the BETA angle")
    with pytest.raises(ReplayDivergenceError) as caught:
        await replay(scenario, store, agents=agents)
    error = caught.value
    assert error.agent == "beta"
    assert error.occurrence == 1
    assert "-  Research tides from the beta angle" in error.diff
    assert "+  Research tides from the BETA angle" in error.diff
    assert "agent 'beta', occurrence 1: asked something the recording does not contain" in str(
        error
    )
    assert error.diff in str(error)
    assert isinstance(error, HarnessError)
    assert error.code == "replay_divergence"
    assert error.partial is not None
    assert_signal(error.partial, "harness:error", {"code": "replay_divergence"}, agent="beta")
    (divergence,) = error.divergences
    assert isinstance(divergence, Divergence)
    assert divergence.closest is not None
    assert divergence.closest.agent == "beta"


async def test_renamed_agent_is_named_with_its_old_name_in_the_diff(scenario: Scenario) -> None:
    """Renaming an agent stops the replay at its first signal: the error names the new
    agent, the position, and the diff shows the recorded name against the new one."""
    store = await recorded_store(scenario)
    agents = dict(scenario.agents)
    agents["delta"] = agents.pop("gamma")
    with pytest.raises(ReplayDivergenceError) as caught:
        await replay(scenario, store, agents=agents)
    error = caught.value
    assert error.agent == "delta"
    assert "diverged at signal #" in str(error)
    changed = [line for line in error.diff.splitlines() if line[:1] in "+-"]
    assert changed[0].startswith("-  agent:activated (agent 'gamma')")
    assert changed[1].startswith("+  agent:activated (agent 'delta')")


async def test_added_agent_is_named(scenario: Scenario) -> None:
    """Adding an agent stops the replay at the new agent's first signal, naming it."""
    store = await recorded_store(scenario)
    agents = dict(scenario.agents)
    agents["epsilon"] = scenario.workflow.agent(
        prompt="Summarize {{ state.topic }} in one line",
        activate_on="workflow:start",
    )
    with pytest.raises(ReplayDivergenceError) as caught:
        await replay(scenario, store, agents=agents)
    error = caught.value
    assert error.agent == "epsilon"
    assert "epsilon" in str(error) and "diverged at signal #" in str(error)


async def test_extra_occurrence_of_a_recorded_ask(scenario: Scenario) -> None:
    """An agent that wakes more often than it did when recorded stops the replay at the
    extra activation, naming the agent."""
    store = await recorded_store(scenario)
    agents = dict(scenario.agents)
    agents["alpha"] = researcher(
        scenario,
        "alpha",
        "Research {{ state.topic }} from the alpha angle",
        activate_on=["workflow:start", "digest:done"],
    )
    with pytest.raises(ReplayDivergenceError) as caught:
        await replay(scenario, store, agents=agents)
    error = caught.value
    assert error.agent == "alpha"
    assert "agent:activated" in str(error)


async def test_collect_reports_every_divergence_at_the_end(scenario: Scenario) -> None:
    """With ``collect_divergences`` the run goes on (divergent asks are answered by the
    closest recorded ask of the same agent) and one error lists every divergence, with the
    whole run as ``partial``."""
    store = await recorded_store(scenario)
    agents = dict(scenario.agents)
    agents["alpha"] = researcher(
        scenario, "alpha", "Research {{ state.topic }} from the ALPHA angle"
    )
    agents["gamma"] = researcher(
        scenario, "gamma", "Research {{ state.topic }} from the GAMMA angle"
    )
    with pytest.raises(ReplayDivergenceError) as caught:
        await replay(scenario, store, agents=agents, collect=True)
    error = caught.value
    assert sorted(d.agent for d in error.divergences) == ["alpha", "gamma"]
    assert "diverged 2 times" in str(error)
    assert "1. agent '" in str(error)
    assert "2. agent '" in str(error)
    assert error.partial is not None
    assert error.partial.status == "failed"
    assert error.partial.state.verdict is not None


async def test_collect_still_stops_when_nothing_can_answer(scenario: Scenario) -> None:
    """In collect mode an ask from an agent the recording never heard of still fails the
    run at once, reporting the divergences so far."""
    store = await recorded_store(scenario)
    agents = dict(scenario.agents)
    agents["epsilon"] = scenario.workflow.agent(prompt="Hello", activate_on="workflow:start")
    with pytest.raises(ReplayDivergenceError) as caught:
        await replay(scenario, store, agents=agents, collect=True)
    assert [d.agent for d in caught.value.divergences] == ["epsilon"]


def test_recording_option_is_validated() -> None:
    """A Recording with a bad mode, a replay without id or name, or a bad id is refused
    with every problem listed."""
    with pytest.raises(WorkflowDefinitionError) as caught:
        Recording(mode="rewind", recording_id="../x", batch_size=0)  # type: ignore[arg-type]
    problems = caught.value.problems
    assert any("mode must be one of" in p for p in problems)
    assert any("invalid recording id" in p for p in problems)
    assert any("batch_size" in p for p in problems)
    with pytest.raises(WorkflowDefinitionError, match="needs a recording_id or a name"):
        Recording(mode="replay")


async def test_collect_fails_engine_runs_too(scenario: Scenario) -> None:
    """An engine run in collect mode ends failed with the collected divergences, like
    run_reactive."""
    store = await recorded_store(scenario)
    agents = dict(scenario.agents)
    agents["alpha"] = researcher(
        scenario, "alpha", "Research {{ state.topic }} from the ALPHA angle"
    )
    recording = Recording(mode="replay", store=store, name="research", collect_divergences=True)
    async with open_engine() as engine:
        handle = await engine.start(
            scenario.workflow, **scenario.options(agents=agents, recording=recording)
        )
        with pytest.raises(ReplayDivergenceError) as caught:
            await handle.result()
    assert [d.agent for d in caught.value.divergences] == ["alpha"]
    assert caught.value.partial is not None
    assert caught.value.partial.status == "failed"
    assert caught.value.partial.state.verdict is not None
