"""Embedding: a long-lived engine, run handles that stream, cancel and return results."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.lowlevel
import trio.testing

from openharness_actors import (
    HarnessError,
    HarnessRequest,
    ScriptedHarness,
    Signal,
    WorkflowCancelledError,
    create_workflow,
    open_engine,
)


@attrs.frozen
class State:
    input: str
    result: str | None = None


wf = create_workflow(State)
analyzer = wf.agent(
    prompt="Analyze: {{ state.input }}", activate_on=["workflow:start"], updates="result"
)


async def test_handle_streams_signals_and_returns_result() -> None:
    """A started run streams its text signals in order and yields its result."""
    harness = ScriptedHarness({"analyzer": "one two three"}, chunk_size=4)
    async with open_engine() as engine:
        run = await engine.start(
            wf, agents={"analyzer": analyzer}, state=State("x"), harness=harness
        )
        chunks = [s.payload["content"] async for s in run.signals("text:delta")]
        result = await run.result()
    assert "".join(chunks) == "one two three"
    assert result.state.result == "one two three"
    assert run.done and run.status == "completed"


async def test_late_subscriber_sees_everything() -> None:
    """Subscribing after the run ended still yields the whole trace, ending with workflow:end."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents={"analyzer": analyzer},
            state=State("x"),
            harness=ScriptedHarness(default="r"),
        )
        result = await run.result()
        late = [s async for s in run.signals()]
    assert late == list(result.signals)


async def test_cancel_handle(autojump_clock: trio.testing.MockClock) -> None:
    """Cancelling a handle ends that run only; result() raises WorkflowCancelledError."""
    slow = ScriptedHarness(default="late", delay=100.0)
    async with open_engine() as engine:
        doomed = await engine.start(
            wf, agents={"analyzer": analyzer}, state=State("a"), harness=slow
        )
        other = await engine.start(
            wf,
            agents={"analyzer": analyzer},
            state=State("b"),
            harness=ScriptedHarness(default="ok"),
        )
        await trio.sleep(1)
        doomed.cancel()
        with pytest.raises(WorkflowCancelledError) as info:
            await doomed.result()
        assert info.value.partial is not None
        assert info.value.partial.signals[-1].payload["status"] == "cancelled"
        assert (await other.result()).state.result == "ok"
        assert engine.statistics().finished == 2


async def test_failed_run_does_not_crash_host() -> None:
    """A failing run keeps its error in the handle; the engine and host go on."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents={"analyzer": analyzer},
            state=State("x"),
            harness=ScriptedHarness({"analyzer": RuntimeError("down")}),
        )
        await run.wait()
        with pytest.raises(HarnessError):
            await run.result()
        ok = await engine.start(
            wf,
            agents={"analyzer": analyzer},
            state=State("y"),
            harness=ScriptedHarness(default="z"),
        )
        assert (await ok.result()).state.result == "z"


async def test_engine_reporters_see_every_run() -> None:
    """Reporters attached to the engine receive the signals of every run it starts."""
    seen: list[tuple[str, str]] = []

    class Rec:
        def on_signal(self, signal: Signal) -> None:
            seen.append((signal.run_id, signal.name))

    async with open_engine(reporters=[Rec()]) as engine:
        runs = [
            await engine.start(
                wf,
                agents={"analyzer": analyzer},
                state=State(str(i)),
                harness=ScriptedHarness(default="r"),
            )
            for i in range(3)
        ]
        results = [await r.result() for r in runs]
    for result in results:
        assert [n for rid, n in seen if rid == result.run_id] == [s.name for s in result.signals]


async def test_many_concurrent_runs_isolated() -> None:
    """Concurrent runs of one workflow never see each other's state or signals."""

    async def reply(request: HarnessRequest) -> str:
        await trio.lowlevel.checkpoint()
        return request.prompt

    async with open_engine() as engine:
        runs = [
            await engine.start(
                wf,
                agents={"analyzer": analyzer},
                state=State(str(i)),
                harness=ScriptedHarness(default=reply),
            )
            for i in range(50)
        ]
        results = [await r.result() for r in runs]
    for i, result in enumerate(results):
        assert result.state.result == f"Analyze: {i}"
        assert {s.run_id for s in result.signals} == {result.run_id}


async def test_engine_start_accepts_journal(tmp_path: Any) -> None:
    """Engine.start takes journal= like run_reactive: the run is journaled, its handle streams
    signals and returns the result, and the journal can be read back."""
    from openharness_actors import Journal, SqliteSignalStore
    from openharness_actors.journal._journal import list_journals

    wf = create_workflow(dict)
    agent = wf.agent(prompt="x", activate_on=["workflow:start"], updates="out")
    store = SqliteSignalStore(tmp_path / "journal.db")
    async with open_engine() as engine:
        handle = await engine.start(
            wf,
            agents={"a": agent},
            state={"out": None},
            harness=ScriptedHarness({"a": "done"}),
            journal=Journal(store),
            run_id="engine-job",
        )
        names = [s.name async for s in handle.signals()]
        result = await handle.result()
    assert result.state["out"] == "done" and result.run_id == "engine-job"
    assert names[0] == "workflow:start" and names[-1] == "workflow:end"
    (info,) = await list_journals(store, "engine-job")
    assert info.status == "completed"


def _chain(length: int) -> tuple[Any, dict[str, Any]]:
    """``length`` agents, each woken by the one before; one output token a call."""
    chained = create_workflow(dict)
    agents = {
        f"a{n}": chained.agent(
            prompt="step",
            activate_on=["workflow:start" if n == 0 else f"step:{n - 1}"],
            emits=[f"step:{n}"],
            updates=f"s{n}",
        )
        for n in range(length)
    }
    return chained, agents


async def test_engine_start_applies_a_budget() -> None:
    """Engine.start takes budget= like run_reactive: once spent no call starts, the handle's
    result raises BudgetExceededError with the partial result, and the host goes on."""
    from openharness_actors import Budget, BudgetExceededError

    chained, agents = _chain(5)
    harness = ScriptedHarness(default="abcd")  # one output token a call
    async with open_engine() as engine:
        handle = await engine.start(
            chained,
            agents=agents,
            state={f"s{n}": None for n in range(5)},
            harness=harness,
            budget=Budget(output_tokens=2),
        )
        names = [s.name async for s in handle.signals()]
        with pytest.raises(BudgetExceededError) as caught:
            await handle.result()
        assert engine.statistics().finished == 1
    assert len(harness.calls) == 2
    assert caught.value.spent.output_tokens == 2
    partial = caught.value.partial
    assert partial is not None and partial.state["s1"] == "abcd" and partial.state["s2"] is None
    assert names[-1] == "workflow:end"


async def test_engine_start_with_journal_and_budget_resumes_without_repeating(
    tmp_path: Any,
) -> None:
    """A journaled engine run stopped by its budget is journaled as far as it went; resumed
    with a larger budget it finishes, making only the calls that had not been made."""
    from openharness_actors import Budget, BudgetExceededError, Journal, SqliteSignalStore

    chained, agents = _chain(4)
    store = SqliteSignalStore(tmp_path / "journal.db")
    first = ScriptedHarness(default="abcd")
    async with open_engine() as engine:
        handle = await engine.start(
            chained,
            agents=agents,
            state={f"s{n}": None for n in range(4)},
            harness=first,
            journal=Journal(store),
            run_id="spent",
            budget=Budget(output_tokens=2),
        )
        with pytest.raises(BudgetExceededError):
            await handle.result()
    assert [c.agent for c in first.calls] == ["a0", "a1"]
    second = ScriptedHarness(default="abcd")
    result = await chained.resume(
        "spent",
        journal=Journal(store),
        agents=agents,
        harness=second,
        budget=Budget(output_tokens=10),
    )
    assert [c.agent for c in second.calls] == ["a2", "a3"]
    assert result.state == {f"s{n}": "abcd" for n in range(4)}
