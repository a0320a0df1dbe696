"""Definition-time and start-time validation: clear errors naming the agent and the problem."""

from __future__ import annotations

import dataclasses
from typing import Any, TypedDict

import attrs
import pytest

from openharness_actors import (
    ScriptedHarness,
    TemplateError,
    WorkflowDefinitionError,
    create_workflow,
)


@attrs.frozen
class State:
    input: str
    result: str | None = None


def test_unknown_updates_key_rejected_at_definition() -> None:
    """updates naming no state field fails at agent() with the field list and location."""
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError) as info:
        wf.agent(prompt="x", activate_on=["workflow:start"], updates="reslt")
    message = str(info.value)
    assert "updates='reslt' is not a field of State (fields: input, result)" in message
    assert "test_definition.py" in message  # where the agent was defined


def test_named_agent_in_message() -> None:
    """Giving name= makes definition errors name the agent."""
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError, match="agent 'analyzer'"):
        wf.agent(prompt="x", activate_on=[], updates="result", name="analyzer")


def test_every_problem_reported_at_once() -> None:
    """Several problems in one agent are all listed in one error."""
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError) as info:
        wf.agent(
            prompt="{{ state.nope }}",
            activate_on=["bad pattern"],
            emits=["workflow:end", "ok:name"],
            updates="missing",
            timeout=-1,
            max_concurrency=0,
        )
    problems = info.value.problems
    joined = "\n".join(problems)
    assert "invalid signal pattern 'bad pattern'" in joined
    assert "reserved namespace 'workflow'" in joined
    assert "updates='missing'" in joined
    assert "timeout must be a positive number" in joined
    assert "max_concurrency must be an integer >= 1" in joined
    assert len(problems) == 5


def test_template_path_naming_no_field() -> None:
    """A template path that names no state field is refused when the agent is defined."""
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError, match=r"'state.inptu' names no state field"):
        wf.agent(prompt="Analyze {{ state.inptu }}", activate_on=["workflow:start"])


def test_ambiguous_root_refused() -> None:
    """'{{ input }}' with a state field named input is refused: field or initial state?"""
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError, match=r"ambiguous.*write 'state\.input'"):
        wf.agent(prompt="Analyze: {{ input }}", activate_on=["workflow:start"])


def test_malformed_template_is_template_error() -> None:
    """Template syntax errors are WorkflowDefinitionErrors too (TemplateError subclasses it)."""
    assert issubclass(TemplateError, WorkflowDefinitionError)
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError, match="unclosed"):
        wf.agent(prompt="Analyze {{ input", activate_on=["workflow:start"])


def test_empty_activate_on() -> None:
    """An agent must be woken by something."""
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError, match="activate_on is empty"):
        wf.agent(prompt="x", activate_on=[])


def test_prompt_and_body_exclusive() -> None:
    """An agent has a prompt (harness call) or a body (plain Python), exactly one."""
    wf = create_workflow(State)
    with pytest.raises(WorkflowDefinitionError, match="either prompt"):
        wf.agent(prompt="x", body=lambda ctx: 1, activate_on=["workflow:start"])
    with pytest.raises(WorkflowDefinitionError, match="prompt is missing"):
        wf.agent(activate_on=["workflow:start"])


async def test_missing_harness_named_at_start() -> None:
    """A run where an agent has no harness fails before any signal, naming the agent."""
    wf = create_workflow(State)
    a = wf.agent(prompt="x", activate_on=["workflow:start"], updates="result")
    with pytest.raises(WorkflowDefinitionError, match=r"no harness for agent\(s\) 'a'"):
        await wf.run_reactive(agents={"a": a}, state=State(input="i"))


async def test_dict_state_unknown_key_checked_at_start() -> None:
    """For plain dict states, updates keys and template paths are checked against the initial state."""
    wf = create_workflow(dict)
    a = wf.agent(prompt="{{ topic }}", activate_on=["workflow:start"], updates="answer")
    with pytest.raises(WorkflowDefinitionError) as info:
        await wf.run_reactive(agents={"a": a}, state={"question": "q"}, harness=ScriptedHarness())
    text = str(info.value)
    assert "agent 'a': updates='answer' is not a key of the initial state" in text
    assert "'topic' names no state field" in text
    assert info.value.agent == "a"


async def test_agents_checked_again_for_a_state_with_other_keys() -> None:
    """Runs of the same agents skip checks already passed for the same state keys, but a
    state with other keys is checked again, and a harness missing in a later run is named."""
    wf = create_workflow(dict)
    a = wf.agent(prompt="{{ state.topic }}", activate_on=["workflow:start"], updates="answer")
    agents = {"a": a}
    good = {"topic": "t", "answer": None}
    for _ in range(2):
        result = await wf.run_reactive(
            agents=agents, state=good, harness=ScriptedHarness(default="x")
        )
        assert result.state["answer"] == "x"
    with pytest.raises(WorkflowDefinitionError, match="updates='answer' is not a key"):
        await wf.run_reactive(
            agents=agents, state={"topic": "t"}, harness=ScriptedHarness(default="x")
        )
    with pytest.raises(WorkflowDefinitionError, match=r"'state\.topic' names no state field"):
        await wf.run_reactive(agents=agents, state={"answer": None}, harness=ScriptedHarness())
    with pytest.raises(WorkflowDefinitionError, match=r"no harness for agent\(s\) 'a'"):
        await wf.run_reactive(agents=agents, state=good)


async def test_run_option_validation() -> None:
    """Bad run options are all reported together before anything runs."""
    wf = create_workflow(State)
    a = wf.agent(prompt="x", activate_on=["workflow:start"], updates="result")
    with pytest.raises(WorkflowDefinitionError) as info:
        await wf.run_reactive(
            agents={"a": a, "bad name": a},
            state=State(input="i"),
            harness=ScriptedHarness(),
            timeout=0,
            max_activations=0,
            reducers={"a::b": lambda s, sig: s},
            on_end="explode",  # type: ignore[arg-type]
        )
    joined = "\n".join(info.value.problems)
    for fragment in (
        "name 'bad name'",
        "timeout",
        "max_activations",
        "invalid signal pattern",
        "on_end",
    ):
        assert fragment in joined


async def test_wrong_initial_state_type() -> None:
    """The initial state must be an instance of the workflow's state type."""
    wf = create_workflow(State)
    a = wf.agent(prompt="x", activate_on=["workflow:start"], updates="result")
    with pytest.raises(WorkflowDefinitionError, match="must be a State instance"):
        await wf.run_reactive(agents={"a": a}, state={"input": "x"}, harness=ScriptedHarness())


async def test_harness_preflight_runs_before_any_signal() -> None:
    """A harness whose preflight fails stops the run before it starts."""

    class NoKey(ScriptedHarness):
        def preflight(self) -> None:
            raise WorkflowDefinitionError("no API key")

    wf = create_workflow(State)
    a = wf.agent(prompt="x", activate_on=["workflow:start"], updates="result")
    with pytest.raises(WorkflowDefinitionError, match="no API key"):
        await wf.run_reactive(agents={"a": a}, state=State(input="i"), harness=NoKey())


def test_mutable_state_types_refused() -> None:
    """Mutable attrs classes and dataclasses are refused: snapshots must not change."""

    @attrs.define
    class Mutable:
        x: int = 0

    @dataclasses.dataclass
    class MutableDC:
        x: int = 0

    with pytest.raises(WorkflowDefinitionError, match="mutable attrs class"):
        create_workflow(Mutable)
    with pytest.raises(WorkflowDefinitionError, match="mutable dataclass"):
        create_workflow(MutableDC)
    with pytest.raises(WorkflowDefinitionError, match="unsupported state type"):
        create_workflow(list)


async def test_dataclass_and_typeddict_states() -> None:
    """Frozen dataclasses and TypedDicts work as state types."""

    @dataclasses.dataclass(frozen=True)
    class DC:
        q: str
        a: str | None = None

    class TD(TypedDict):
        q: str
        a: str | None

    for state_type, state in ((DC, DC(q="x")), (TD, {"q": "x", "a": None})):
        wf: Any = create_workflow(state_type)
        agent = wf.agent(prompt="{{ q }}?", activate_on=["workflow:start"], updates="a")
        result = await wf.run_reactive(
            agents={"ans": agent}, state=state, harness=ScriptedHarness({"ans": lambda r: r.prompt})
        )
        assert (result.state.a if state_type is DC else result.state["a"]) == "x?"

    with pytest.raises(WorkflowDefinitionError, match="not a field of TD"):
        create_workflow(TD).agent(prompt="x", activate_on=["workflow:start"], updates="zzz")


async def test_frozen_state_snapshot_is_read_only() -> None:
    """Dict states are read-only snapshots with attribute access."""
    from openharness_actors import FrozenState

    state = FrozenState({"a": 1})
    assert state.a == 1 and state["a"] == 1 and state == {"a": 1}
    with pytest.raises(AttributeError):
        state.a = 2
    with pytest.raises(TypeError):
        state["a"] = 2  # pyright: ignore[reportIndexIssue]  # the point: it is read-only
    assert state.set("a", 2) == {"a": 2} and state == {"a": 1}
