"""The player: stepping through a recording and the snapshot derived at each position."""

from __future__ import annotations

import random

import pytest

from openharness_actors import (
    HarnessError,
    MemorySignalStore,
    Player,
    Recording,
    Signal,
    SignalSource,
)

from .recording_scenario import RichHarness, Scenario


async def recorded_player(scenario: Scenario, **options: int) -> tuple[Player, object]:
    store = MemorySignalStore()
    result = await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(), recording=Recording(mode="record", store=store))
    )
    assert result.recording_id is not None
    return await Player.open(store, result.recording_id, **options), result


async def test_moving_around(scenario: Scenario) -> None:
    """step, back, goto, rewind and peek move (or look) exactly as documented."""
    player, result = await recorded_player(scenario)
    signals = result.signals  # type: ignore[attr-defined]
    assert player.position == 0
    assert player.current is None
    assert player.peek() is signals[0]
    assert player.step() is signals[0]
    assert player.step(3) is signals[3]
    assert player.position == 4
    assert player.peek(0) is signals[3]
    assert player.peek(-1) is signals[2]
    assert player.back() is signals[2]
    assert player.back(10) is None
    assert player.position == 0
    assert player.goto(10) is signals[10]
    assert player.position == 11
    assert player.goto(-1) is signals[-1]
    assert player.at_end
    assert player.step() is None
    assert player.peek() is None
    with pytest.raises(IndexError):
        player.goto(len(signals))
    player.rewind()
    assert player.position == 0
    assert list(player) == list(signals)
    assert len(player) == len(signals)
    assert player.info is not None
    assert player.info.status == "completed"


async def test_find_next_and_previous(scenario: Scenario) -> None:
    """find_next/find_previous move to the nearest match of pattern, payload and agent, and
    stay put when there is none."""
    player, _ = await recorded_player(scenario)
    first = player.find_next("agent:activated")
    assert first is not None
    assert first.name == "agent:activated"
    judge = player.find_next("agent:activated", agent="judge")
    assert judge is not None
    assert judge.source.agent == "judge"
    position = player.position
    assert player.find_next("agent:activated", agent="judge") is None
    assert player.position == position
    retry = player.find_previous("harness:error", {"code": "overloaded_error"})
    assert retry is not None
    assert retry.source.agent == "beta"
    assert player.current is retry
    assert player.find_previous("workflow:start") is not None
    assert player.position == 1
    assert player.find_previous("**") is None


async def test_snapshot_follows_a_streaming_call(scenario: Scenario) -> None:
    """Mid-call, the snapshot shows the text and thinking streamed so far, the agent active
    and the tool call running; after the call, the result and the tool's outcome."""
    player, result = await recorded_player(scenario)
    player.find_next("tool:call", agent="digest")
    snapshot = player.snapshot()
    assert snapshot.agents["digest"] == "active"
    assert snapshot.thinking["digest"] == "thinking about digest"
    assert snapshot.text["digest"] == ""
    (tool,) = snapshot.tool_calls
    assert (tool.name, tool.status, tool.input) == ("lookup", "running", {"term": "facts"})
    player.find_next("text:delta", agent="digest")
    player.find_next("text:delta", agent="digest")
    partial = player.snapshot().text["digest"]
    assert len(partial) == 14
    assert player.snapshot().tool_calls[0].status == "done"
    assert player.snapshot().tool_calls[0].result == "definition of facts"
    player.find_next("agent:completed", agent="digest")
    snapshot = player.snapshot()
    assert snapshot.text["digest"] == result.state.digest  # type: ignore[attr-defined]
    assert snapshot.agents["digest"] == "completed"
    player.find_next("state:digest:changed")  # the update rides on agent:completed
    snapshot = player.snapshot()
    assert snapshot.state["digest"] == result.state.digest  # type: ignore[attr-defined]


async def test_snapshot_at_the_end(scenario: Scenario) -> None:
    """At the end the snapshot has the final status and state, every agent's status, the
    last error (beta's retried failure), custom payloads and counts."""
    player, result = await recorded_player(scenario)
    player.goto(-1)
    snapshot = player.snapshot()
    assert snapshot.status == "completed"
    assert snapshot.state["verdict"] == {"score": 7, "label": "solid"}
    assert snapshot.state["facts"] == list(result.state.facts)  # type: ignore[attr-defined]
    assert snapshot.agents == {
        "alpha": "completed",
        "beta": "completed",
        "gamma": "completed",
        "digest": "completed",
        "judge": "completed",
    }
    assert snapshot.last_error is not None
    assert snapshot.last_error["signal"] == "harness:error"
    assert snapshot.last_error["agent"] == "beta"
    assert snapshot.custom["digest:done"] == {"agent": "digest", "output": result.state.digest}  # type: ignore[attr-defined]
    assert snapshot.counts["research:done"] == 3
    assert snapshot.counts == dict(result.metrics.signals_by_name)  # type: ignore[attr-defined]
    assert snapshot.signal is result.signals[-1]  # type: ignore[attr-defined]


async def test_any_path_gives_the_same_snapshots(scenario: Scenario) -> None:
    """Reaching a position by stepping forward or by jumping around (keyframes, back) gives
    the same snapshot."""
    player, _ = await recorded_player(scenario, keyframe_every=4)
    forward = []
    for _ in range(len(player)):
        player.step()
        forward.append(player.snapshot())
    rng = random.Random(7)
    for _ in range(200):
        index = rng.randrange(len(player))
        if rng.random() < 0.5 or index + 3 >= len(player):
            player.goto(index)
        else:
            player.goto(index + 3)
            player.back(3)
        assert player.snapshot() == forward[index]


def test_player_over_a_failed_trace() -> None:
    """A player over plain signals of a failed run shows the failure as status and error."""
    source = SignalSource()
    signals = [
        Signal("s0", "workflow:start", {"agents": ["a"], "state": {"x": 1}}, 0.0, 0, "r", source),
        Signal("s1", "agent:activated", {"agent": "a"}, 0.0, 1, "r", SignalSource("a", None, "s0")),
        Signal(
            "s2",
            "agent:failed",
            {"agent": "a", "error": "boom"},
            0.0,
            2,
            "r",
            SignalSource("a", None, "s1"),
        ),
        Signal(
            "s3",
            "workflow:end",
            {
                "status": "failed",
                "state": {"x": 1},
                "error": "boom",
                "error_type": HarnessError.__name__,
            },
            0.0,
            3,
            "r",
            SignalSource(None, None, "s0"),
        ),
    ]
    player = Player(signals)
    player.goto(2)
    assert player.snapshot().agents == {"a": "failed"}
    assert player.snapshot().status == "running"
    player.step()
    snapshot = player.snapshot()
    assert snapshot.status == "failed"
    assert snapshot.last_error == {
        "signal": "workflow:end",
        "seq": 3,
        "agent": None,
        "message": "boom",
    }
