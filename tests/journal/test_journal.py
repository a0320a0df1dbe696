"""Durable journals: what is written, when, and resuming an interrupted run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    HarnessRequest,
    Journal,
    MemorySignalStore,
    ScriptedHarness,
    SqliteSignalStore,
    StoreError,
    WorkflowDefinitionError,
    create_workflow,
)


@attrs.frozen
class Job:
    topic: str
    outline: str | None = None
    draft: str | None = None
    final: str | None = None


wf = create_workflow(Job)
outline = wf.agent(
    prompt="outline {{ topic }}",
    activate_on=["workflow:start"],
    updates="outline",
    emits=["outlined"],
)
draft = wf.agent(
    prompt="draft {{ outline }}", activate_on=["outlined"], updates="draft", emits=["drafted"]
)
final = wf.agent(prompt="polish {{ draft }}", activate_on=["drafted"], updates="final")
AGENTS = {"outline": outline, "draft": draft, "final": final}


def echo(request: HarnessRequest) -> str:
    return f"<{request.prompt}>"


async def test_journaled_run_writes_a_complete_journal(tmp_path: Path) -> None:
    """A journaled run is recorded under its run id, tagged, with its initial state."""
    store = SqliteSignalStore(tmp_path / "j.db")
    result = await wf.run_reactive(
        agents=AGENTS,
        state=Job("ai"),
        harness=ScriptedHarness(default=echo),
        journal=Journal(store),
        run_id="job-1",
    )
    assert result.recording_id == "job-1"
    info = await store.info("job-1")
    assert info.status == "completed"
    assert "journal" in info.tags and info.name == "job-1"
    assert info.metadata["initial_state"] == {
        "topic": "ai",
        "outline": None,
        "draft": None,
        "final": None,
    }
    data = await store.load("job-1")
    assert [s.name for s in data.signals] == [s.name for s in result.signals]


async def test_sync_durability_writes_before_moving_on(tmp_path: Path) -> None:
    """With sync durability, an agent's harness result is in the store before its commit."""
    store = SqliteSignalStore(tmp_path / "j.db")
    seen_in_store: list[bool] = []

    async def check(request: HarnessRequest) -> str:
        if request.agent == "draft":
            signals = (await store.load("job-2")).signals
            seen_in_store.append(
                any(s.name == "harness:end" and s.source.agent == "outline" for s in signals)
            )
        return echo(request)

    await wf.run_reactive(
        agents=AGENTS,
        state=Job("ai"),
        harness=ScriptedHarness(default=check),
        journal=Journal(store, durability="sync"),
        run_id="job-2",
    )
    assert seen_in_store == [True]


async def test_resume_after_cancellation_skips_completed_calls() -> None:
    """A run cancelled mid-way resumes: completed calls come from the journal, the rest live."""
    store = MemorySignalStore()
    journal = Journal(store)
    blocked = trio.Event()

    async def stuck_on_final(request: HarnessRequest) -> str:
        if request.agent == "final":
            blocked.set()
            await trio.sleep_forever()
        return echo(request)

    first = ScriptedHarness(default=stuck_on_final)
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: wf.run_reactive(
                    agents=AGENTS, state=Job("ai"), harness=first, journal=journal, run_id="job-3"
                )
            )
            await blocked.wait()
            scope.cancel()
    assert (await store.info("job-3")).status == "cancelled"

    second = ScriptedHarness(default=echo)
    result = await wf.resume("job-3", journal=journal, agents=AGENTS, harness=second)
    assert [r.agent for r in second.calls] == ["final"]
    uninterrupted = await wf.run_reactive(
        agents=AGENTS, state=Job("ai"), harness=ScriptedHarness(default=echo)
    )
    assert result.state == uninterrupted.state
    assert result.run_id == "job-3"
    assert result.recording_id == "job-3.r1"


async def test_resume_retries_a_call_that_failed_for_good() -> None:
    """A run that failed on a harness error resumes by calling that agent's model again."""
    store = MemorySignalStore()
    journal = Journal(store)
    failing = ScriptedHarness({"outline": "o", "draft": RuntimeError("outage"), "final": "f"})
    with pytest.raises(Exception, match="outage"):
        await wf.run_reactive(
            agents=AGENTS, state=Job("ai"), harness=failing, journal=journal, run_id="job-4"
        )
    recovered = ScriptedHarness({"draft": "d", "final": "f"})
    result = await wf.resume("job-4", journal=journal, agents=AGENTS, harness=recovered)
    assert result.state == Job("ai", "o", "d", "f")
    assert [r.agent for r in recovered.calls] == ["draft", "final"]


async def test_resume_of_a_resume() -> None:
    """A resumed attempt is journaled too: resuming again uses every earlier attempt."""
    store = MemorySignalStore()
    journal = Journal(store)
    harness = ScriptedHarness({"outline": "o", "draft": RuntimeError("x"), "final": "f"})
    with pytest.raises(Exception, match="x"):
        await wf.run_reactive(
            agents=AGENTS, state=Job("t"), harness=harness, journal=journal, run_id="r"
        )
    with pytest.raises(Exception, match="y"):
        await wf.resume(
            "r",
            journal=journal,
            agents=AGENTS,
            harness=ScriptedHarness({"draft": "d", "final": RuntimeError("y")}),
        )
    last = ScriptedHarness({"final": "f"})
    result = await wf.resume("r", journal=journal, agents=AGENTS, harness=last)
    assert result.state == Job("t", "o", "d", "f")
    assert [r.agent for r in last.calls] == ["final"]
    assert result.recording_id == "r.r2"


async def test_changed_definition_refused_unless_forced() -> None:
    """Resuming with a changed prompt is refused, naming the agent; force=True resumes."""
    store = MemorySignalStore()
    journal = Journal(store)
    await wf.run_reactive(
        agents=AGENTS,
        state=Job("t"),
        harness=ScriptedHarness(default=echo),
        journal=journal,
        run_id="c",
    )
    changed = {
        **AGENTS,
        "final": wf.agent(prompt="POLISH {{ draft }}", activate_on=["drafted"], updates="final"),
    }
    with pytest.raises(WorkflowDefinitionError, match="agent 'final' changed"):
        await wf.resume("c", journal=journal, agents=changed, harness=ScriptedHarness(default=echo))
    extra = {**AGENTS, "extra": wf.agent(prompt="x", activate_on=["nothing"])}
    with pytest.raises(WorkflowDefinitionError, match="agent 'extra' was added"):
        await wf.resume("c", journal=journal, agents=extra, harness=ScriptedHarness(default=echo))
    forced = ScriptedHarness(default=echo)
    result = await wf.resume("c", journal=journal, agents=changed, harness=forced, force=True)
    assert [r.agent for r in forced.calls] == ["final"]
    assert result.state.final == "<POLISH <draft <outline t>>>"


async def test_two_resumers_cannot_run_at_once(tmp_path: Path) -> None:
    """While one task resumes (or runs) a journaled run, another resume is refused."""
    store = SqliteSignalStore(tmp_path / "j.db")
    journal = Journal(store)
    started = trio.Event()
    release = trio.Event()

    async def slow(request: HarnessRequest) -> str:
        started.set()
        await release.wait()  # holds the run (and its lock) until the resume was refused
        return "x"

    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: wf.run_reactive(
                agents=AGENTS,
                state=Job("t"),
                harness=ScriptedHarness(default=slow),
                journal=journal,
                run_id="busy",
            )
        )
        await started.wait()
        with pytest.raises(StoreError, match="locked"):
            await wf.resume(
                "busy", journal=journal, agents=AGENTS, harness=ScriptedHarness(default=echo)
            )
        release.set()


async def test_journal_names_must_be_new_and_exist() -> None:
    """A run id with a journal cannot be run again; a missing one cannot be resumed."""
    journal = Journal(MemorySignalStore())
    await wf.run_reactive(
        agents=AGENTS,
        state=Job("t"),
        harness=ScriptedHarness(default=echo),
        journal=journal,
        run_id="once",
    )
    with pytest.raises(WorkflowDefinitionError, match="already has a journal"):
        await wf.run_reactive(
            agents=AGENTS,
            state=Job("t"),
            harness=ScriptedHarness(default=echo),
            journal=journal,
            run_id="once",
        )
    with pytest.raises(StoreError, match="no journal for run 'never'"):
        await wf.resume(
            "never", journal=journal, agents=AGENTS, harness=ScriptedHarness(default=echo)
        )


def test_durability_validated() -> None:
    """Unknown durability values are refused clearly."""
    with pytest.raises(WorkflowDefinitionError, match="durability"):
        Journal(durability="eventually")  # type: ignore[arg-type]


@pytest.mark.parametrize("durability", ["async", "exit"])
async def test_other_durabilities_complete(durability: Any) -> None:
    """async and exit durabilities journal the whole run by the time it ends."""
    store = MemorySignalStore()
    result = await wf.run_reactive(
        agents=AGENTS,
        state=Job("t"),
        harness=ScriptedHarness(default=echo),
        journal=Journal(store, durability=durability),
        run_id="d",
    )
    assert (await store.info("d")).signal_count == len(result.signals)
