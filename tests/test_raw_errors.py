"""Raw Python exceptions become library errors (issue 14, item 4).

A value nested too deeply, a harness returning the wrong type and a stray ``trio.Cancelled``
from user code each fail the run with an :class:`OpenHarnessError` carrying ``partial``, with
``workflow:end`` logged and the recording finalized.
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

from openharness_actors import (
    HarnessError,
    HarnessRequest,
    HarnessResult,
    MemorySignalStore,
    OutputParseError,
    Recording,
    ScriptedHarness,
    Signal,
    UserCodeError,
    WorkflowDefinitionError,
    create_workflow,
)
from openharness_actors.harness.protocol import EventSink


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


async def assert_failed_and_recorded(
    error: pytest.ExceptionInfo[Any], store: MemorySignalStore, agent: str
) -> None:
    partial = error.value.partial
    assert partial is not None
    assert partial.status == "failed"
    assert partial.signals[-1].name == "workflow:end"
    assert partial.signals[-1].payload["status"] == "failed"
    assert any(s.name == "agent:failed" and s.payload["agent"] == agent for s in partial.signals)
    info = await store.info("rec")
    assert info.status == "failed"
    assert info.signal_count == len(partial.signals)


@pytest.mark.parametrize("depth", [350, 400, 5000])
async def test_deeply_nested_output_fails_the_activation(depth: int) -> None:
    """An output nested hundreds of levels deep is a UserCodeError naming the agent, not a
    RecursionError; the state keeps its old value and the recording is finalized."""
    wf = create_workflow(dict)
    deep = wf.agent(body=lambda ctx: nested(depth), activate_on=["workflow:start"], updates="k")
    store = MemorySignalStore()
    with pytest.raises(UserCodeError, match=r"output of agent 'deep'.*nested") as error:
        await wf.run_reactive(
            agents={"deep": deep},
            state={"k": None},
            recording=Recording(mode="record", store=store, recording_id="rec"),
        )
    assert error.value.agent == "deep"
    assert error.value.partial is not None
    assert error.value.partial.state["k"] is None
    await assert_failed_and_recorded(error, store, "deep")


async def test_moderately_nested_output_is_kept() -> None:
    """A value nested 90 levels deep (under the limit) is stored and emitted as is."""
    wf = create_workflow(dict)
    agent = wf.agent(body=lambda ctx: nested(90), activate_on=["workflow:start"], updates="k")
    result = await wf.run_reactive(agents={"agent": agent}, state={"k": None})
    assert result.state["k"] == nested(90)


async def test_deeply_nested_state_from_a_reducer_fails_the_run() -> None:
    """A reducer that writes a value nested 400 levels deep fails the run with a
    UserCodeError and ``partial``, not a raw exception from the state actor."""
    wf = create_workflow(dict)
    agent = wf.agent(body=lambda ctx: 1, activate_on=["workflow:start"], emits=["go"])

    def deepen(state: Any, signal: Signal) -> Any:
        return state.set("k", nested(400))

    with pytest.raises(UserCodeError, match=r"reducer for 'go'.*nested") as error:
        await wf.run_reactive(agents={"agent": agent}, state={"k": None}, reducers={"go": deepen})
    partial = error.value.partial
    assert partial is not None and partial.signals[-1].name == "workflow:end"
    assert partial.state["k"] is None


async def test_deeply_nested_initial_state_is_a_definition_error() -> None:
    """An initial state nested 400 levels deep is refused before the run starts."""
    wf = create_workflow(dict)
    agent = wf.agent(body=lambda ctx: 1, activate_on=["workflow:start"])
    with pytest.raises(WorkflowDefinitionError, match=r"initial state.*nested"):
        await wf.run_reactive(agents={"agent": agent}, state={"k": nested(400)})


async def test_deeply_nested_structured_reply_is_an_output_parse_error() -> None:
    """A JSON reply nested 5,000 levels deep for a structured output is an OutputParseError."""
    wf = create_workflow(dict)
    agent = wf.agent(prompt="p", activate_on=["workflow:start"], updates="k", output=list)
    harness = ScriptedHarness({"agent": "[" * 5000 + "]" * 5000})
    with pytest.raises(OutputParseError) as error:
        await wf.run_reactive(agents={"agent": agent}, state={"k": None}, harness=harness)
    assert error.value.agent == "agent"
    assert error.value.partial is not None


class WrongResultHarness:
    """A custom harness whose ``run`` returns ``value`` instead of a proper HarnessResult."""

    name = "wrong"

    def __init__(self, value: Any) -> None:
        self.value = value

    def preflight(self) -> None:
        pass

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        return self.value  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "returned NoneType"),
        ("text", "returned str"),
        (HarnessResult(output=3), "output is int"),  # type: ignore[arg-type]
    ],
)
async def test_harness_returning_the_wrong_type_is_a_harness_error(value: Any, shown: str) -> None:
    """A harness returning None, a str or a HarnessResult with a non-str output raises a
    HarnessError naming the agent (and logs harness:error), not AttributeError/TypeError."""
    wf = create_workflow(dict)
    agent = wf.agent(prompt="p", activate_on=["workflow:start"], updates="k")
    store = MemorySignalStore()
    with pytest.raises(HarnessError, match=rf"harness 'wrong' .*{shown}.*agent 'writer'") as error:
        await wf.run_reactive(
            agents={"writer": agent},
            state={"k": None},
            harness=WrongResultHarness(value),
            recording=Recording(mode="record", store=store, recording_id="rec"),
        )
    assert error.value.agent == "writer"
    assert error.value.code == "harness_bad_result"
    assert error.value.partial is not None
    assert "harness:error" in [s.name for s in error.value.partial.signals]
    await assert_failed_and_recorded(error, store, "writer")


async def stray_cancelled() -> trio.Cancelled:
    """A real ``trio.Cancelled``, caught inside a scope that is over by the time it is used."""
    with trio.CancelScope() as scope:
        scope.cancel()
        try:
            await trio.sleep_forever()
        except trio.Cancelled as exc:
            return exc
    raise AssertionError("not cancelled")


async def test_body_raising_cancelled_fails_its_activation() -> None:
    """A body that raises a stray trio.Cancelled fails its activation with a UserCodeError
    (agent:failed, status failed) instead of vanishing from a run reported as completed."""
    wf = create_workflow(dict)

    async def body(ctx: Any) -> str:
        raise await stray_cancelled()

    agent = wf.agent(body=body, activate_on=["workflow:start"], updates="k")
    store = MemorySignalStore()
    with pytest.raises(UserCodeError, match=r"body of agent 'buggy'.*Cancelled") as error:
        await wf.run_reactive(
            agents={"buggy": agent},
            state={"k": None},
            recording=Recording(mode="record", store=store, recording_id="rec"),
        )
    assert isinstance(error.value.__cause__, trio.Cancelled)
    await assert_failed_and_recorded(error, store, "buggy")


async def test_harness_raising_cancelled_is_a_harness_error() -> None:
    """A harness that raises a stray trio.Cancelled fails the activation with a HarnessError."""

    class CancellingHarness(WrongResultHarness):
        async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
            raise await stray_cancelled()

    wf = create_workflow(dict)
    agent = wf.agent(prompt="p", activate_on=["workflow:start"], updates="k")
    with pytest.raises(HarnessError, match="Cancelled") as error:
        await wf.run_reactive(
            agents={"writer": agent}, state={"k": None}, harness=CancellingHarness(None)
        )
    assert error.value.partial is not None and error.value.partial.status == "failed"


async def test_real_cancellation_of_a_body_still_cancels() -> None:
    """A body cancelled by the run's end (end_when) is cancelled, not reported as failed."""
    wf = create_workflow(dict)

    async def slow(ctx: Any) -> str:
        await trio.sleep_forever()
        return "never"

    fast = wf.agent(body=lambda ctx: "done", activate_on=["workflow:start"], updates="k")
    stuck = wf.agent(body=slow, activate_on=["workflow:start"], updates="other")
    result = await wf.run_reactive(
        agents={"fast": fast, "stuck": stuck},
        state={"k": None, "other": None},
        end_when=lambda s: s["k"] is not None,
    )
    assert result.status == "terminated"
    assert "agent:failed" not in [s.name for s in result.signals]
    assert result.metrics.agents["stuck"].cancelled == 1
