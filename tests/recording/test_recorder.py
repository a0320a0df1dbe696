"""The recorder: streams a run's signals to the store in batches, off the hot path."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
import trio
import trio.testing

from openharness_actors import (
    MemorySignalStore,
    Player,
    Recording,
    RecordingInfo,
    ScriptedHarness,
    Signal,
    StoreError,
    create_workflow,
)
from openharness_actors.harness import HarnessRequest
from openharness_actors.testing import assert_count, assert_signal

from .recording_scenario import RichHarness, Scenario


class CountingStore(MemorySignalStore):
    """Counts appended batches; fails the first ``fail_appends`` appends."""

    def __init__(self, *, fail_appends: int = 0, fail_create: bool = False) -> None:
        super().__init__()
        self.batches: list[int] = []
        self.fail_appends = fail_appends
        self.fail_create = fail_create

    async def create(self, info: RecordingInfo) -> RecordingInfo:
        if self.fail_create:
            raise StoreError("disk on fire")
        return await super().create(info)

    async def append(self, recording_id: str, signals: Sequence[Signal]) -> None:
        if self.fail_appends:
            self.fail_appends -= 1
            raise StoreError("disk full, for now")
        self.batches.append(len(signals))
        await super().append(recording_id, signals)


async def test_signals_stream_to_the_store_while_the_run_goes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Before the run ends, the store already holds its signals (the recording open); at the
    end it is finalized with status and duration."""
    wf = create_workflow(dict)
    gate = trio.Event()

    async def slow(request: HarnessRequest) -> str:
        await gate.wait()
        return "done"

    agent = wf.agent(prompt="go", activate_on="workflow:start", updates="out")
    store = MemorySignalStore()
    recording = Recording(mode="record", store=store, recording_id="streamed", flush_interval=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            lambda: wf.run_reactive(
                agents={"a": agent},
                state={"out": None},
                harness=ScriptedHarness({"a": slow}),
                recording=recording,
            )
        )
        await trio.sleep(1)
        info = await store.info("streamed")
        assert info.status == "recording"
        signals = await store.load_signals("streamed")
        assert [s.name for s in signals] == [
            "workflow:start",
            "agent:activated",
            "harness:start",
            "harness:request",
        ]
        gate.set()
    data = await store.load("streamed")
    assert data.info.status == "completed"
    assert data.info.duration_ms is not None
    assert data.info.duration_ms >= 1000
    assert data.signals[-1].name == "workflow:end"


async def test_writes_are_batched(scenario: Scenario) -> None:
    """The store sees few, large appends rather than one per signal, and the recording holds
    every signal of the run in broker order."""
    store = CountingStore()
    recording = Recording(mode="record", store=store, recording_id="batched", batch_size=16)
    result = await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(jitter=0), recording=recording)
    )
    assert sum(store.batches) == len(result.signals)
    assert len(store.batches) < len(result.signals) / 4
    data = await store.load("batched")
    assert [s.id for s in data.signals] == [s.id for s in result.signals]
    assert [s.seq for s in data.signals] == list(range(len(result.signals)))


async def test_store_failures_do_not_fail_the_run(scenario: Scenario) -> None:
    """A store that fails some appends during the run does not fail it; the batches are
    written again later and the recording ends complete and in order."""
    store = CountingStore(fail_appends=2)
    recording = Recording(mode="record", store=store, recording_id="flaky", flush_interval=0)
    result = await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(), recording=recording)
    )
    assert result.status == "completed"
    data = await store.load("flaky")
    assert [s.id for s in data.signals] == [s.id for s in result.signals]
    assert data.info.status == "completed"


async def test_a_dead_store_fails_the_run_with_its_partial(scenario: Scenario) -> None:
    """When the store cannot even create the recording, the run fails with StoreError
    naming the recording, chained to the store's error, with the partial result."""
    store = CountingStore(fail_create=True)
    recording = Recording(mode="record", store=store, recording_id="lost")
    with pytest.raises(StoreError, match=r"recording 'lost' in .* could not be created") as caught:
        await scenario.workflow.run_reactive(
            **scenario.options(harness=RichHarness(), recording=recording)
        )
    assert caught.value.__cause__ is not None
    partial = caught.value.partial
    assert partial is not None and partial.status == "failed"
    assert partial.recording_id == "lost"
    assert partial.signals[-1].name == "workflow:end"
    assert not await store.exists("lost")


async def test_a_dead_store_only_warns_when_told_to(scenario: Scenario) -> None:
    """With on_write_error="warn" the run completes and its warnings say the recording is
    lost."""
    store = CountingStore(fail_create=True)
    recording = Recording(mode="record", store=store, recording_id="lost", on_write_error="warn")
    result = await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(), recording=recording)
    )
    assert result.status == "completed"
    assert result.recording_id == "lost"
    assert len(result.warnings) == 1
    assert "recording 'lost'" in result.warnings[0]
    assert "could not be created" in result.warnings[0]


async def test_record_mode_logs_each_ask_and_keeps_harness_names(scenario: Scenario) -> None:
    """Every recorded harness call starts with a ``harness:request`` carrying the ask, and
    the harness's own name and model still label the signals."""
    store = MemorySignalStore()
    result = await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(), recording=Recording(mode="record", store=store))
    )
    request = assert_signal(result, "harness:request", agent="judge")
    assert request.payload == {
        "agent": "judge",
        "prompt": f"Judge this digest: {result.state.digest}",
        "system": None,
        "model": "judge-model",
        "tools": [],
        "output": "Verdict",
    }
    assert_signal(result, "harness:request", {"tools": ["lookup"]}, agent="digest")
    assert request.source.harness == "rich"
    assert_count(result, "harness:request", len(result.signals_named("harness:start")))
    start = assert_signal(result, "harness:start", agent="alpha")
    assert start.payload["model"] == "rich-1"


async def test_checkpoints_hold_the_state_at_their_signal(scenario: Scenario) -> None:
    """Checkpoints written every few signals hold exactly the state as of their signal."""
    store = MemorySignalStore()
    recording = Recording(mode="record", store=store, recording_id="cp", checkpoint_every=5)
    result = await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(), recording=recording)
    )
    data = await store.load("cp")
    assert len(data.checkpoints) >= len(result.signals) // 5 - 1
    player = Player(data)
    for checkpoint in data.checkpoints:
        player.goto(checkpoint.seq)
        assert checkpoint.state == player.snapshot().state


async def test_recording_metadata(scenario: Scenario) -> None:
    """The recording's info carries the name, tags, run id, agent names and user metadata."""
    store = MemorySignalStore()
    recording = Recording(
        mode="record", store=store, name="meta", tags=("nightly", "ci"), metadata={"git": "abc"}
    )
    result = await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(), recording=recording)
    )
    assert result.recording_id is not None
    info = await store.info(result.recording_id)
    assert info.name == "meta"
    assert info.tags == ("nightly", "ci")
    assert info.run_id == result.run_id
    assert info.metadata == {"agents": list(scenario.agents), "log_format": 2, "git": "abc"}
    assert info.signal_count == len(result.signals)
