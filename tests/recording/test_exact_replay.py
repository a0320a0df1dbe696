"""Exact replay: a replay reproduces the recorded log signal for signal, however the recorded
activations raced (DESIGN §9)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    JsonlSignalStore,
    MemorySignalStore,
    Recording,
    ReplayDivergenceError,
    RestartPolicy,
    RetryPolicy,
    ScriptedHarness,
    Signal,
    SignalStore,
    SqliteSignalStore,
    create_workflow,
)
from openharness_actors.harness import HarnessRequest

VOLATILE = {"duration_ms", "delay", "elapsed", "timestamp"}


def shape(signals: Sequence[Signal]) -> list[tuple[Any, ...]]:
    """A trace without ids, timestamps and durations: what a replay must reproduce."""
    seq_of = {s.id: s.seq for s in signals}
    rows = []
    for s in signals:
        payload = {k: v for k, v in s.payload.items() if k not in VOLATILE}
        if s.name == "workflow:end":
            payload = {"status": payload["status"], "state": payload["state"]}
        harness = None if s.source.harness is None else "h"
        parent = None if s.source.parent is None else seq_of.get(s.source.parent, "?")
        rows.append((s.seq, s.name, s.source.agent, harness, parent, json.dumps(payload)))
    return rows


def first_difference(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]]) -> str:
    for x, y in zip(a, b, strict=False):
        if x != y:
            return f"recorded {x}\nreplayed {y}"
    return f"lengths {len(a)} vs {len(b)}"


def racing(seed: int, text: str, low: float = 0.01, high: float = 1.0) -> Any:
    """A scripted reply that arrives after a random (seeded) delay, on trio's clock."""
    rng = random.Random(seed)

    async def reply(request: HarnessRequest) -> str:
        await trio.sleep(rng.uniform(low, high))
        return text

    return reply


@attrs.frozen
class Review:
    topic: str
    order: tuple[str, ...] = ()
    decision: str | None = None


def review_flow(seed: int) -> tuple[Any, dict[str, Any], dict[str, Any], ScriptedHarness]:
    """Five racing reviewers, a reducer appending the order, a guarded decider quoting it."""
    wf = create_workflow(Review)
    agents: dict[str, Any] = {
        f"r{i}": wf.agent(
            prompt=f"review {i}: {{{{ state.topic }}}}",
            activate_on=["workflow:start"],
            emits=["review:done"],
        )
        for i in range(5)
    }
    agents["decider"] = wf.agent(
        prompt=lambda ctx: f"decide; reviews arrived in order {json.dumps(list(ctx.state.order))}",
        activate_on=["state:order:changed"],
        when=lambda ctx: len(ctx.state.order) >= 3,
        updates="decision",
    )

    def append(state: Review, signal: Signal) -> Review:
        return attrs.evolve(state, order=(*state.order, str(signal.source.agent)))

    replies: dict[str, Any] = {f"r{i}": racing(seed * 10 + i, f"ok {i}") for i in range(5)}
    calls = {"n": 0}

    async def decide(request: HarnessRequest) -> str:
        calls["n"] += 1
        await trio.sleep(random.Random(seed * 100 + calls["n"]).uniform(0.01, 1.0))
        return "decision after " + request.prompt.rsplit(" ", 1)[-1]

    replies["decider"] = decide
    return wf, agents, {"review:done": append}, ScriptedHarness(replies)


def stores(tmp_path: Path) -> list[SignalStore]:
    return [
        MemorySignalStore(),
        SqliteSignalStore(tmp_path / "rec.db"),
        JsonlSignalStore(tmp_path / "jsonl"),
    ]


@pytest.mark.parametrize("seed", range(8))
async def test_racing_reviews_replay_signal_for_signal(
    seed: int, tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    """Eight recordings of racing reviewers, reducer and guarded decider each replay exactly,
    five times, through the memory, SQLite and JSONL stores."""
    for store in stores(tmp_path):
        wf, agents, reducers, harness = review_flow(seed)
        recorded = await wf.run_reactive(
            agents=agents,
            state=Review(topic="caching"),
            harness=harness,
            reducers=reducers,
            recording=Recording(mode="record", store=store, name=f"reviews-{seed}"),
        )
        assert len(recorded.state.order) == 5
        expected = shape(recorded.signals)
        for _ in range(5):
            wf, agents, reducers, _harness = review_flow(seed)
            replayed = await wf.run_reactive(
                agents=agents,
                state=Review(topic="caching"),
                reducers=reducers,
                recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id),
            )
            got = shape(replayed.signals)
            assert got == expected, first_difference(expected, got)
            assert replayed.state == recorded.state


async def test_the_recorded_orders_differ(autojump_clock: trio.testing.MockClock) -> None:
    """The racing flow really races: different seeds log the reviews in different orders."""
    orders = set()
    for seed in range(8):
        wf, agents, reducers, harness = review_flow(seed)
        result = await wf.run_reactive(
            agents=agents, state=Review(topic="t"), harness=harness, reducers=reducers
        )
        orders.add(result.state.order)
    assert len(orders) >= 4


@attrs.frozen
class Items:
    items: tuple[str, ...] = ()
    snapshot: tuple[str, ...] | None = None


async def test_thirty_racing_emitters_and_a_watcher_replay_exactly(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """30 racing emitters into one reducer, a watcher snapshotting the list at its 10th item:
    the replay reproduces the log and the snapshot."""
    wf = create_workflow(Items)
    agents: dict[str, Any] = {
        f"e{i:02d}": wf.agent(
            prompt=f"emit {i}", activate_on=["workflow:start"], emits=["item:done"]
        )
        for i in range(30)
    }
    agents["watcher"] = wf.agent(
        activate_on=["state:items:changed"],
        when=lambda ctx: len(ctx.state.items) == 10,
        body=lambda ctx: ctx.state.items,
        updates="snapshot",
    )
    reducers: dict[str | re.Pattern[str], Callable[[Items, Signal], Items]] = {
        "item:done": lambda s, sig: attrs.evolve(s, items=(*s.items, str(sig.source.agent)))
    }
    harness = ScriptedHarness({f"e{i:02d}": racing(i, f"item {i}") for i in range(30)})
    store = MemorySignalStore()
    recorded = await wf.run_reactive(
        agents=agents,
        state=Items(),
        harness=harness,
        reducers=reducers,
        recording=Recording(mode="record", store=store),
    )
    assert recorded.state.snapshot == recorded.state.items[:10]
    replayed = await wf.run_reactive(
        agents=agents,
        state=Items(),
        reducers=reducers,
        recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id),
    )
    assert shape(replayed.signals) == shape(recorded.signals)
    assert replayed.state == recorded.state


@attrs.frozen
class Work:
    results: tuple[str, ...] = ()
    done: str | None = None


def mixed_flow(seed: int) -> tuple[Any, dict[str, Any], dict[str, Any], ScriptedHarness, Any]:
    """Retries, per-agent timeouts, a max_concurrency queue and an end_when that cancels."""
    wf = create_workflow(Work)
    rng = random.Random(seed)
    agents: dict[str, Any] = {
        "queued": wf.agent(
            prompt=lambda ctx: f"item {ctx.signal.payload['output']}",
            activate_on=["task:new"],
            max_concurrency=2,
            emits=["task:result"],
        ),
        "source": wf.agent(
            body=lambda ctx: "x",
            activate_on=["workflow:start"],
            emits=["task:new", "task:new", "task:new", "task:new"],
        ),
        "flaky": wf.agent(
            prompt="flaky",
            activate_on=["workflow:start"],
            retry=RetryPolicy(attempts=3, initial_delay=0.5, jitter=0.5),
            emits=["task:result"],
        ),
        "slowpoke": wf.agent(
            prompt="slow",
            activate_on=["workflow:start"],
            timeout=0.5,
            retry=RetryPolicy(attempts=2, initial_delay=0.1, retry_on=lambda e: True),
            emits=["task:result"],
        ),
        "finisher": wf.agent(
            activate_on=["task:result"],
            when=lambda ctx: len(ctx.state.results) >= 4,
            body=lambda ctx: "enough",
            updates="done",
        ),
    }
    from openharness_actors import HarnessError

    slow_calls = {"n": 0}

    async def slow(request: HarnessRequest) -> str:
        slow_calls["n"] += 1
        await trio.sleep(5.0 if slow_calls["n"] == 1 else rng.uniform(0.01, 0.4))
        return "slow answer"

    harness = ScriptedHarness(
        {
            "queued": racing(seed, "queued answer"),
            "flaky": [HarnessError("overloaded", retryable=True), racing(seed + 1, "flaky ok")],
            "slowpoke": slow,
        }
    )
    reducers = {
        "task:result": lambda s, sig: attrs.evolve(s, results=(*s.results, sig.source.agent))
    }
    return wf, agents, reducers, harness, (lambda s: s.done is not None)


@pytest.mark.parametrize("seed", range(4))
async def test_retries_timeouts_queues_and_end_when_replay_exactly(
    seed: int, autojump_clock: trio.testing.MockClock
) -> None:
    """Retries (with jitter), a per-agent timeout, a max_concurrency queue and an end_when
    that cancels in-flight work: the replay reproduces the recorded log."""
    wf, agents, reducers, harness, end_when = mixed_flow(seed)
    store = MemorySignalStore()
    recorded = await wf.run_reactive(
        agents=agents,
        state=Work(),
        harness=harness,
        reducers=reducers,
        end_when=end_when,
        recording=Recording(mode="record", store=store),
    )
    names = [s.name for s in recorded.signals]
    assert "agent:retry" in names and "workflow:terminating" in names
    wf, agents, reducers, _harness, end_when = mixed_flow(seed)
    replayed = await wf.run_reactive(
        agents=agents,
        state=Work(),
        reducers=reducers,
        end_when=end_when,
        recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id),
    )
    expected, got = shape(recorded.signals), shape(replayed.signals)
    assert got == expected, first_difference(expected, got)
    assert replayed.state == recorded.state


async def test_restarts_replay_exactly(autojump_clock: trio.testing.MockClock) -> None:
    """A crashing agent restarted one_for_all while its siblings race replays exactly."""
    from openharness_actors import HarnessError

    wf = create_workflow(Work)
    agents = {
        f"w{i}": wf.agent(prompt=f"w{i}", activate_on=["workflow:start"], emits=["task:result"])
        for i in range(3)
    }
    agents["crasher"] = wf.agent(prompt="crash", activate_on=["workflow:start"])
    harness = ScriptedHarness(
        {
            **{f"w{i}": racing(i, f"w{i}") for i in range(3)},
            "crasher": [
                racing(7, "never", 0.2, 0.3),
                HarnessError("boom"),
                racing(8, "fine"),
            ],
        }
    )
    store = MemorySignalStore()
    options: dict[str, Any] = {
        "agents": agents,
        "state": Work(),
        "restart": RestartPolicy(strategy="one_for_all", max_restarts=3),
    }
    harness = ScriptedHarness(
        {
            **{f"w{i}": racing(i, f"w{i}", 0.1, 2.0) for i in range(3)},
            "crasher": [HarnessError("boom"), racing(8, "fine")],
        }
    )
    recorded = await wf.run_reactive(
        **options, harness=harness, recording=Recording(mode="record", store=store)
    )
    assert "agent:restarted" in [s.name for s in recorded.signals]
    replayed = await wf.run_reactive(
        **options,
        recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id),
    )
    expected, got = shape(recorded.signals), shape(replayed.signals)
    assert got == expected, first_difference(expected, got)


async def test_changed_guard_diverges_at_the_first_differing_signal(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Changing a guard makes the replay stop at the first signal that differs, naming its
    position and agent."""
    wf, agents, reducers, harness = review_flow(3)
    store = MemorySignalStore()
    recorded = await wf.run_reactive(
        agents=agents,
        state=Review(topic="t"),
        harness=harness,
        reducers=reducers,
        recording=Recording(mode="record", store=store),
    )
    wf2, agents2, reducers2, _ = review_flow(3)
    agents2["decider"] = wf2.agent(
        prompt=lambda ctx: f"decide; reviews arrived in order {json.dumps(list(ctx.state.order))}",
        activate_on=["state:order:changed"],
        when=lambda ctx: len(ctx.state.order) >= 4,
        updates="decision",
    )
    with pytest.raises(ReplayDivergenceError) as caught:
        await wf2.run_reactive(
            agents=agents2,
            state=Review(topic="t"),
            reducers=reducers2,
            recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id),
        )
    message = str(caught.value)
    first_guard = next(
        s for s in recorded.signals if s.name == "agent:activated" and s.agent == "decider"
    )
    assert f"signal #{first_guard.seq}" in message
    assert "decider" in message
    assert caught.value.partial is not None


async def test_nondeterministic_body_is_a_divergence(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A body whose output differs from the recording is a divergence, not a silent change."""
    wf = create_workflow(Work)
    counter = {"n": 0}

    def body(ctx: Any) -> str:
        counter["n"] += 1
        return f"value {counter['n']}"

    agents = {"b": wf.agent(body=body, activate_on=["workflow:start"], updates="done")}
    store = MemorySignalStore()
    recorded = await wf.run_reactive(
        agents=agents, state=Work(), recording=Recording(mode="record", store=store)
    )
    with pytest.raises(ReplayDivergenceError, match=r"agent:completed.*different payload"):
        await wf.run_reactive(
            agents=agents,
            state=Work(),
            recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id),
        )


@attrs.frozen
class Pair:
    a: tuple[str, ...] = ()
    b: tuple[str, ...] = ()
    seen: str | None = None


async def test_an_agent_woken_between_two_changes_of_one_reducer_sees_python_values() -> None:
    """A reducer changing two keys logs two changes; an agent woken by the first sees the
    state with the first change only, as Python values (tuples, not their JSON lists)."""
    wf = create_workflow(Pair)
    agents = {
        "go": wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["go"]),
        "watcher": wf.agent(
            activate_on=["state:a:changed"],
            body=lambda ctx: f"{ctx.state.a!r} {ctx.state.b!r}",
            updates="seen",
        ),
    }
    result = await wf.run_reactive(
        agents=agents,
        state=Pair(),
        reducers={"go": lambda s, sig: attrs.evolve(s, a=("x",), b=("y",))},
    )
    assert result.state.seen == "('x',) ()"
    changed = [s.payload for s in result.signals if s.name.startswith("state:")]
    assert changed[0]["new_value"] == ["x"] and changed[1]["new_value"] == ["y"]
