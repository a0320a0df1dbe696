"""The ``recording=`` option: modes, the default store, auto, and where it is resolved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openharness_actors import (
    MemorySignalStore,
    Recording,
    ScriptedHarness,
    SqliteSignalStore,
    StoreError,
    WorkflowDefinitionError,
    create_workflow,
    open_engine,
)
from openharness_actors.testing import assert_no_signal

from .recording_scenario import RichHarness, Scenario


def simple() -> tuple[Any, dict[str, Any]]:
    wf = create_workflow(dict)
    agent = wf.agent(prompt="Say {{ state.word }}", activate_on="workflow:start", updates="out")
    return wf, {"agents": {"a": agent}, "state": {"word": "hi", "out": None}}


async def test_live_mode_records_nothing() -> None:
    """``live`` (or no recording) calls the harness, logs no asks and has no recording id."""
    wf, options = simple()
    result = await wf.run_reactive(**options, harness=ScriptedHarness({"a": "x"}), recording="live")
    assert result.recording_id is None
    assert_no_signal(result, "harness:request")


async def test_mode_string_uses_the_default_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plain mode string records into the default SQLite store, at
    ``$OPENHARNESS_RECORDINGS``."""
    path = tmp_path / "default" / "recordings.db"
    monkeypatch.setenv("OPENHARNESS_RECORDINGS", str(path))
    wf, options = simple()
    result = await wf.run_reactive(
        **options, harness=ScriptedHarness({"a": "x"}), recording="record"
    )
    assert path.is_file()
    info = await SqliteSignalStore(path).info(result.recording_id)
    assert info.status == "completed"


async def test_auto_records_once_then_replays(scenario: Scenario) -> None:
    """``auto`` records when the named recording is missing and replays it afterwards: the
    harness is called only the first time, and both runs name the same recording."""
    store = MemorySignalStore()
    harness = RichHarness()
    recording = Recording(mode="auto", store=store, name="once")
    first = await scenario.workflow.run_reactive(
        **scenario.options(harness=harness, recording=recording)
    )
    calls = len(harness.calls)
    assert calls > 0
    second = await scenario.workflow.run_reactive(
        **scenario.options(harness=harness, recording=recording)
    )
    assert len(harness.calls) == calls
    assert second.recording_id == first.recording_id
    assert second.state == first.state


async def test_auto_by_id_and_replay_by_name_pick_the_right_recording() -> None:
    """``auto`` with an id records under that id; replay by name takes the newest finished
    recording of that name."""
    wf, options = simple()
    store = MemorySignalStore()
    for reply in ("old", "new"):
        await wf.run_reactive(
            **options,
            harness=ScriptedHarness({"a": reply}),
            recording=Recording(mode="record", store=store, name="greeting"),
        )
    replayed = await wf.run_reactive(
        **options, recording=Recording(mode="replay", store=store, name="greeting")
    )
    assert replayed.state["out"] == "new"
    auto = await wf.run_reactive(
        **options,
        harness=ScriptedHarness({"a": "by id"}),
        recording=Recording(mode="auto", store=store, recording_id="fixed"),
    )
    assert auto.recording_id == "fixed"
    assert (await store.info("fixed")).status == "completed"


async def test_replay_of_a_missing_recording_fails_before_running() -> None:
    """Replaying a recording that does not exist raises StoreError before any signal or
    harness call."""
    wf, options = simple()
    harness = ScriptedHarness({"a": "x"})
    with pytest.raises(StoreError, match="cannot replay: no recording"):
        await wf.run_reactive(
            **options,
            harness=harness,
            recording=Recording(mode="replay", store=MemorySignalStore(), name="none"),
        )
    assert harness.count() == 0


async def test_record_refuses_an_existing_id() -> None:
    """Recording under an id that exists raises StoreError before the run."""
    wf, options = simple()
    store = MemorySignalStore()
    recording = Recording(mode="record", store=store, recording_id="taken")
    await wf.run_reactive(**options, harness=ScriptedHarness({"a": "x"}), recording=recording)
    with pytest.raises(StoreError, match="already exists"):
        await wf.run_reactive(**options, harness=ScriptedHarness({"a": "x"}), recording=recording)


async def test_prepare_needs_replay_resolved_and_plans_are_single_use() -> None:
    """``prepare`` refuses an unresolved replay/auto option, accepts a resolved plan once,
    and refuses a bad option type."""
    wf, options = simple()
    store = MemorySignalStore()
    await wf.run_reactive(
        **options, harness=ScriptedHarness({"a": "x"}), recording=Recording(store=store, name="p")
    )
    recording = Recording(mode="replay", store=store, name="p")
    with pytest.raises(WorkflowDefinitionError, match="resolve"):
        wf.prepare(**options, recording=recording)
    plan = await recording.resolve()
    assert plan.mode == "replay"
    core = wf.prepare(**options, recording=plan)
    result = await core.execute()
    assert result.state["out"] == "x"
    with pytest.raises(WorkflowDefinitionError, match="already used"):
        wf.prepare(**options, recording=plan)
    with pytest.raises(WorkflowDefinitionError, match="recording must be"):
        wf.prepare(**options, recording=42)
    with pytest.raises(WorkflowDefinitionError, match="mode must be one of"):
        wf.prepare(**options, recording="sometimes")


async def test_engine_runs_resolve_the_recording() -> None:
    """``Engine.start`` accepts ``recording=`` in every mode and the handle's result names
    the recording."""
    wf, options = simple()
    store = MemorySignalStore()
    async with open_engine() as engine:
        recorded = await engine.start(
            wf,
            **options,
            harness=ScriptedHarness({"a": "x"}),
            recording=Recording(store=store, name="e"),
        )
        first = await recorded.result()
        replayed = await engine.start(
            wf, **options, recording=Recording(mode="replay", store=store, name="e")
        )
        second = await replayed.result()
    assert second.recording_id == first.recording_id
    assert second.state == first.state


async def test_record_mode_still_preflights_the_real_harness() -> None:
    """Recording wraps the harness but still runs its preflight, so a missing key fails the
    run before anything starts."""

    class NoKey(ScriptedHarness):
        def preflight(self) -> None:
            raise WorkflowDefinitionError("ANTHROPIC_API_KEY is not set")

    wf, options = simple()
    store = MemorySignalStore()
    with pytest.raises(WorkflowDefinitionError, match="ANTHROPIC_API_KEY"):
        await wf.run_reactive(
            **options, harness=NoKey({"a": "x"}), recording=Recording(store=store)
        )
    assert await store.list() == []
