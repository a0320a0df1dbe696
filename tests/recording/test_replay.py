"""Replay: a recorded parallel multi-agent run replays exactly, many times, with no harness."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from openharness_actors import (
    HarnessError,
    MemorySignalStore,
    Recording,
    SignalStore,
    WorkflowDefinitionError,
    WorkflowTimeoutError,
    create_workflow,
)
from openharness_actors.harness import HarnessRequest
from openharness_actors.recording import ReplayHarness
from openharness_actors.testing import assert_signal

from .recording_scenario import RichHarness, Scenario, Verdict, per_agent


async def record(scenario: Scenario, store: SignalStore, **overrides: Any) -> Any:
    recording = Recording(mode="record", store=store, name="research")
    return await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(), recording=recording, **overrides)
    )


class RefusingHarness:
    """A harness that must never be used: no key, and calling it fails the test."""

    name = "refusing"

    def preflight(self) -> None:
        raise WorkflowDefinitionError("no API key")

    async def run(self, request: HarnessRequest, emit: Any) -> Any:
        raise AssertionError("replay called a real harness")


async def test_round_trip_fifty_replays(store: SignalStore, scenario: Scenario) -> None:
    """Fifty replays of a recorded parallel run give the recorded final state and the
    recorded per-agent signal sequences every time, on every store, with no harness."""
    recorded = await record(scenario, store)
    assert recorded.state.verdict == Verdict(score=7, label="solid")
    assert len(recorded.state.facts) == 3
    expected = per_agent(recorded.signals)
    for _ in range(50):
        replayed = await scenario.workflow.run_reactive(
            **scenario.options(
                recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id)
            )
        )
        assert replayed.state == recorded.state
        assert per_agent(replayed.signals) == expected
        assert replayed.recording_id == recorded.recording_id
        assert {s.source.harness for s in replayed.signals} <= {None, "replay"}


async def test_replay_reemits_recorded_events(scenario: Scenario) -> None:
    """Replay re-emits the recorded thinking, tool and text signals and the recorded usage,
    stop reason, model and cost, and retries a recorded retryable failure as recorded."""
    store = MemorySignalStore()
    recorded = await record(scenario, store)
    replayed = await scenario.workflow.run_reactive(
        **scenario.options(recording=Recording(mode="replay", store=store, name="research"))
    )
    assert_signal(
        replayed, "tool:call", {"name": "lookup", "input": {"term": "facts"}}, agent="digest"
    )
    assert_signal(replayed, "tool:result", {"result": "definition of facts"}, agent="digest")
    assert_signal(replayed, "thinking:complete", {"content": "thinking about judge"})
    assert_signal(
        replayed, "harness:error", {"code": "overloaded_error", "retryable": True}, agent="beta"
    )
    assert_signal(replayed, "agent:retry", agent="beta")
    end = assert_signal(replayed, "harness:end", agent="judge")
    assert end.payload["model"] == "rich-1"
    assert end.payload["stop_reason"] == "end_turn"
    assert end.payload["cost_usd"] == 0.001
    assert replayed.metrics.usage == recorded.metrics.usage
    assert replayed.metrics.cost_usd == pytest.approx(recorded.metrics.cost_usd)
    start = assert_signal(replayed, "harness:start", agent="alpha")
    assert start.payload["model"] == "rich-1"


async def test_replay_needs_no_harness_and_no_key(scenario: Scenario) -> None:
    """In replay mode the missing-harness check does not fire and no harness (not even a
    per-agent one whose preflight would fail for lack of a key) is preflighted or called."""
    store = MemorySignalStore()
    recorded = await record(scenario, store)
    agents = dict(scenario.agents)
    wf = scenario.workflow
    agents["alpha"] = wf.agent(
        prompt="Research {{ state.topic }} from the alpha angle",
        system="You are a careful researcher.",
        activate_on="workflow:start",
        updates="alpha",
        emits=["research:done"],
        harness=RefusingHarness(),
    )
    replayed = await wf.run_reactive(
        **scenario.options(
            agents=agents,
            harness=RefusingHarness(),
            recording=Recording(mode="replay", store=store, name="research"),
        )
    )
    assert replayed.state == recorded.state


async def test_parallel_same_agent_asks_match_by_content(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Parallel activations of one agent with different asks each get their own recorded
    answer, whatever order the replay schedules them in."""
    wf = create_workflow(dict)
    fan = wf.agent(
        body=lambda ctx: None,
        activate_on="workflow:start",
        emits=["item:a", "item:b", "item:c", "item:d"],
    )
    worker = wf.agent(
        prompt="Handle {{ signal.name }}",
        activate_on="item:*",
        emits=["handled"],
    )
    collect = {
        "handled": lambda s, sig: s.set("done", tuple(sorted((*s["done"], sig.payload["output"]))))
    }

    class Delayed:
        name = "delayed"

        def preflight(self) -> None:
            pass

        async def run(self, request: HarnessRequest, emit: Any) -> Any:
            from openharness_actors import HarnessResult

            # The last item answers first, so recorded order differs from ask order.
            await trio.sleep(0.001 * (ord("e") - ord(request.prompt[-1])))
            return HarnessResult(output=f"answer to {request.prompt}")

    store = MemorySignalStore()
    options: dict[str, Any] = {
        "agents": {"fan": fan, "worker": worker},
        "state": {"done": ()},
        "reducers": collect,
    }
    recorded = await wf.run_reactive(
        **options, harness=Delayed(), recording=Recording(mode="record", store=store, name="fan")
    )
    for _ in range(10):
        replayed = await wf.run_reactive(
            **options, recording=Recording(mode="replay", store=store, name="fan")
        )
        assert replayed.state == recorded.state
        for signal in replayed.signals_named("harness:end"):
            request = next(
                s
                for s in replayed.signals
                if s.name == "harness:request" and s.source.parent == signal.source.parent
            )
            assert signal.payload["output"] == f"answer to {request.payload['prompt']}"


async def test_timed_out_recording_keeps_status_and_replays_the_timeout(
    autojump_clock: trio.testing.MockClock, scenario: Scenario
) -> None:
    """A run killed by its timeout keeps its recording, finalized with status ``timeout``
    and every signal up to ``workflow:end``; replaying it times out the same way."""
    store = MemorySignalStore()
    recording = Recording(mode="record", store=store, name="slow")
    with pytest.raises(WorkflowTimeoutError) as caught:
        await scenario.workflow.run_reactive(
            **scenario.options(harness=RichHarness(hang="gamma"), recording=recording, timeout=5)
        )
    partial = caught.value.partial
    assert partial is not None
    assert partial.recording_id is not None
    data = await store.load(partial.recording_id)
    assert data.info.status == "timeout"
    assert data.info.duration_ms == pytest.approx(5000, rel=0.01)
    assert [s.id for s in data.signals] == [s.id for s in partial.signals]
    assert data.signals[-1].name == "workflow:end"
    with pytest.raises(WorkflowTimeoutError) as replayed:
        await scenario.workflow.run_reactive(
            **scenario.options(
                recording=Recording(mode="replay", store=store, recording_id=partial.recording_id),
                timeout=5,
            )
        )
    assert replayed.value.partial is not None
    assert replayed.value.partial.state == partial.state
    assert_signal(replayed.value.partial, "text:delta", {"content": "partial "}, agent="gamma")


async def test_failed_and_cancelled_runs_keep_their_recordings(scenario: Scenario) -> None:
    """A failed run's recording is finalized ``failed``; a run cancelled by its host is
    finalized ``cancelled`` before the cancellation propagates."""
    store = MemorySignalStore()
    agents = dict(scenario.agents)
    agents["beta"] = scenario.workflow.agent(
        prompt="Research {{ state.topic }} from the beta angle",
        system="You are a careful researcher.",
        activate_on="workflow:start",
        updates="beta",
    )
    with pytest.raises(HarnessError) as caught:
        await scenario.workflow.run_reactive(
            **scenario.options(
                agents=agents,
                harness=RichHarness(),
                recording=Recording(mode="record", store=store, name="failing"),
            )
        )
    assert caught.value.partial is not None
    failed = await store.info(str(caught.value.partial.recording_id))
    assert failed.status == "failed"

    with trio.move_on_after(0.05):
        await scenario.workflow.run_reactive(
            **scenario.options(
                harness=RichHarness(hang="gamma"),
                recording=Recording(mode="record", store=store, name="cancelled"),
            )
        )
    (cancelled,) = await store.list(name="cancelled")
    assert cancelled.status == "cancelled"
    data = await store.load(cancelled.id)
    assert data.signals[-1].name == "workflow:end"
    assert data.signals[-1].payload["status"] == "cancelled"


async def test_replay_harness_is_named_replay() -> None:
    """The replay harness labels its signals ``replay`` and needs no preflight."""
    from openharness_actors.recording import RecordingData, RecordingInfo
    from openharness_actors.recording._replay import ReplayIndex, ReplaySession

    harness = ReplayHarness(ReplaySession(ReplayIndex(RecordingData(RecordingInfo(id="x"), ()))))
    harness.preflight()
    assert harness.name == "replay"
    assert harness.model is None
