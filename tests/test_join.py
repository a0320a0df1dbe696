"""Joins: ``all_of(...)`` fires once per complete set of unconsumed signals, deterministically."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given, settings, strategies as st

from openharness_actors import (
    AgentContext,
    HarnessRequest,
    ScriptedHarness,
    Signal,
    WorkflowDefinitionError,
    WorkflowResult,
    all_of,
    compile_pattern,
    create_workflow,
)
from openharness_actors._core._join import JoinBook
from openharness_actors._core._quiescence import WorkCounter


def reviewers(wf: Any, n: int) -> dict[str, Any]:
    return {
        f"r{i}": wf.agent(
            prompt=f"review {i}", activate_on=["workflow:start"], emits=["review:done"]
        )
        for i in range(n)
    }


async def test_five_way_count_join_fires_once_in_20_racing_runs(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Five racing reviewers, all_of(count=5): exactly one firing per run, with the five
    review:done signals in log order and the last of them as ctx.signal."""
    wf = create_workflow(dict)
    seen: list[tuple[str, AgentContext[Any]]] = []

    def decide(ctx: AgentContext[Any]) -> str:
        seen.append((ctx.run_id, ctx))
        return "ok"

    agents = {
        **reviewers(wf, 5),
        "decider": wf.agent(body=decide, activate_on=[all_of("review:done", count=5)]),
    }
    rng = random.Random(13)
    results: list[Any] = []

    async def one_run() -> None:
        delays = {f"r{i}": rng.uniform(0.0, 1.0) for i in range(5)}

        async def reply(request: HarnessRequest) -> str:
            await trio.sleep(rng.uniform(0.0, 0.5))
            return request.agent

        harness = ScriptedHarness(default=reply, delay=delays, chunk_size=3)
        results.append(await wf.run_reactive(agents=agents, state={}, harness=harness))

    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(one_run)
    assert len(results) == 20
    orders = set()
    for result in results:
        assert result.status == "completed"
        assert result.metrics.agents["decider"].activations == 1
        contexts = [ctx for run_id, ctx in seen if run_id == result.run_id]
        assert len(contexts) == 1
        ctx = contexts[0]
        done = result.signals_named("review:done")
        assert ctx.signals == tuple(done)
        assert ctx.signal == done[-1]
        assert [s.seq for s in ctx.signals] == sorted(s.seq for s in ctx.signals)
        (activated,) = [s for s in result.signals_named("agent:activated") if s.agent == "decider"]
        assert activated.payload["consumed"] == [s.id for s in done]
        assert activated.payload["consumed_seq"] == [s.seq for s in done]
        assert activated.parent == done[-1].id
        orders.add(tuple(s.agent for s in done))
    assert len(orders) > 1, "the runs did not race"


async def test_two_patterns_fire_once_and_extras_wait_for_the_next_firing() -> None:
    """all_of('a:done', 'b:done') with two a:done and one b:done fires once; a later b:done
    fires it again with the a:done left over."""
    wf = create_workflow(dict)
    fired: list[tuple[str, ...]] = []

    def join(ctx: AgentContext[Any]) -> None:
        fired.append(tuple(f"{s.agent}:{s.name}" for s in ctx.signals))

    def emitter(name: str, on: str) -> Any:
        return wf.agent(body=lambda ctx: None, activate_on=[on], emits=[name])

    agents = {
        "a1": emitter("a:done", "workflow:start"),
        "a2": emitter("a:done", "workflow:start"),
        "b1": emitter("b:done", "workflow:start"),
        "j": wf.agent(body=join, activate_on=[all_of("a:done", "b:done")]),
    }
    result = await wf.run_reactive(agents=agents, state={})
    assert result.metrics.agents["j"].activations == 1
    (first,) = fired
    first_a = f"{result.signals_named('a:done')[0].agent}:a:done"  # first come
    assert sorted(first) == sorted([first_a, "b1:b:done"])

    fired.clear()
    late = {
        **agents,
        "j": wf.agent(body=join, activate_on=[all_of("a:done", "b:done")], emits=["j:fired"]),
        "late": wf.agent(body=lambda ctx: None, activate_on=["j:fired"], emits=["b:done"]),
    }
    result = await wf.run_reactive(agents=late, state={})
    # The second firing takes the left-over a:done; the third b:done finds no a:done.
    assert result.metrics.agents["j"].activations == 2
    assert len(result.signals_named("b:done")) == 3
    first_a = f"{result.signals_named('a:done')[0].agent}:a:done"
    assert sorted(fired[0]) == sorted([first_a, "b1:b:done"])
    second_a = next(a for a in ("a1:a:done", "a2:a:done") if a != first_a)
    assert fired[1] == (second_a, "late:b:done")


async def test_ordinary_activation_sees_its_trigger_as_signals() -> None:
    """Without a join, ctx.signals is (ctx.signal,)."""
    wf = create_workflow(dict)
    got: list[AgentContext[Any]] = []
    agent = wf.agent(body=lambda ctx: got.append(ctx), activate_on=["workflow:start"])
    await wf.run_reactive(agents={"a": agent}, state={})
    (ctx,) = got
    assert ctx.signals == (ctx.signal,)
    assert ctx.signal.name == "workflow:start"


async def test_join_beside_an_ordinary_pattern_activates_for_each() -> None:
    """Each activate_on entry acts on its own: a signal can wake the ordinary pattern and
    complete the join, giving two activations."""
    wf = create_workflow(dict)
    names: list[tuple[str, int]] = []
    agents = {
        "x": wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["x:done"]),
        "y": wf.agent(
            body=lambda ctx: names.append((ctx.signal.name, len(ctx.signals))),
            activate_on=["x:done", all_of("x:done", "workflow:start")],
        ),
    }
    result = await wf.run_reactive(agents=agents, state={})
    assert sorted(names) == [("x:done", 1), ("x:done", 2)]
    assert result.metrics.agents["y"].activations == 2


async def test_overlapping_patterns_need_distinct_signals() -> None:
    """all_of('a:*', 'a:x') needs two signals; a:x then a:y fires (a:y for 'a:*')."""
    wf = create_workflow(dict)
    got: list[tuple[str, ...]] = []
    join = all_of("a:*", "a:x")
    solo = {
        "x": wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["a:x"]),
        "j": wf.agent(
            body=lambda ctx: got.append(tuple(s.name for s in ctx.signals)), activate_on=[join]
        ),
    }
    result = await wf.run_reactive(agents=solo, state={})
    assert result.metrics.agents["j"].activations == 0
    pair = {
        **solo,
        "y": wf.agent(body=lambda ctx: None, activate_on=["a:x"], emits=["a:y"]),
    }
    result = await wf.run_reactive(agents=pair, state={})
    assert got == [("a:x", "a:y")]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (all_of(), "at least one pattern"),
        (all_of("a:done", count=0), "count must be an integer >= 1"),
        (all_of("a:done", "b:done", count=2), "count= is for one pattern"),
        (all_of("a::b"), "empty segment"),
    ],
)
def test_bad_joins_are_definition_errors_naming_the_agent(entry: Any, problem: str) -> None:
    """No patterns, count < 1, count with several patterns, a bad pattern: refused at
    definition, naming the agent."""
    wf = create_workflow(dict)
    with pytest.raises(WorkflowDefinitionError, match=problem) as info:
        wf.agent(body=lambda ctx: None, activate_on=[entry], name="decider")
    assert "'decider'" in str(info.value)


def make_signals(names: list[str]) -> list[Signal]:
    return [Signal(f"s{i}", name, {}, 0.0, i, "run") for i, name in enumerate(names)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(["a:x", "a:y", "b", "c"]), max_size=30),
    st.sampled_from(
        [("a:*", "b"), ("a:*", "a:x"), ("a:x", "a:y", "b"), ("a:*",), ("b", "c", "a:*")]
    ),
)
def test_join_book_consumes_each_signal_once_and_replays_exactly(
    names: list[str], patterns: tuple[str, ...]
) -> None:
    """Firings use distinct, unconsumed signals, one per pattern, completed by the arrival;
    the same log fed again gives the same firings."""
    compiled = all_of(*patterns).compiled()

    def firings() -> list[tuple[str, tuple[str, ...]]]:
        work = WorkCounter()
        book = JoinBook([compiled], work)
        out = []
        for signal in make_signals(names):
            work.add()
            for started in book.feed(signal):
                assert not isinstance(started, Signal)
                out.append((started.signal.id, tuple(s.id for s in started.signals)))
                work.done()
        assert work.pending == 0
        return out

    first = firings()
    assert firings() == first
    used = [sid for _, ids in first for sid in ids]
    assert len(used) == len(set(used))
    by_id = {s.id: s for s in make_signals(names)}
    for completing, ids in first:
        assert completing in ids
        assert len(ids) == len(patterns)
        assert list(ids) == sorted(ids, key=lambda i: by_id[i].seq)
        assert fits(patterns, [by_id[i].name for i in ids])
    # Nothing was missed: the signals left over cannot make one more firing.
    left = [s.name for s in make_signals(names) if s.id not in set(used)]
    left = [n for n in left if any(compile_pattern(p).matches(n) for p in patterns)]
    assert not any(
        fits(patterns, list(chosen)) for chosen in itertools.combinations(left[:12], len(patterns))
    )


def fits(patterns: tuple[str, ...], names: list[str]) -> bool:
    """Whether some one-to-one assignment of ``names`` to ``patterns`` matches each."""
    return any(
        all(compile_pattern(p).matches(n) for p, n in zip(patterns, perm, strict=True))
        for perm in itertools.permutations(names)
    )


async def test_join_replays_from_a_recording(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A recorded run with a join replays without a harness, exactly: one firing, consuming
    the three review:done at their recorded places in the log."""
    from openharness_actors import MemorySignalStore, Recording

    wf = create_workflow(dict)
    agents = {
        **reviewers(wf, 3),
        "decider": wf.agent(prompt="decide", activate_on=[all_of("review:done", count=3)]),
    }
    store = MemorySignalStore()
    delays = {"r0": 0.3, "r1": 0.1, "r2": 0.2}
    recorded = await wf.run_reactive(
        agents=agents,
        state={},
        harness=ScriptedHarness(default="fine", delay=delays),
        recording=Recording(mode="record", store=store, name="join"),
    )
    replayed = await wf.run_reactive(
        agents=agents, state={}, recording=Recording(mode="replay", store=store, name="join")
    )

    def firing(result: WorkflowResult[Any]) -> dict[str, Any]:
        (activated,) = [s for s in result.signals_named("agent:activated") if s.agent == "decider"]
        return activated.payload

    assert replayed.metrics.agents["decider"].activations == 1
    # The replay follows the recorded order, so the firing consumes the same positions.
    assert firing(replayed)["consumed_seq"] == firing(recorded)["consumed_seq"]
    assert [s.name for s in replayed.signals] == [s.name for s in recorded.signals]
    for result in (recorded, replayed):
        done = result.signals_named("review:done")
        assert firing(result)["consumed_seq"] == [s.seq for s in done]
    assert sorted(str(s.agent) for s in replayed.signals_named("review:done")) == ["r0", "r1", "r2"]
    assert replayed.state == recorded.state


async def test_a_restarted_join_activation_keeps_its_signals() -> None:
    """A join activation that crashes under a restart policy runs again with the same
    consumed signals."""
    from openharness_actors import RestartPolicy

    wf = create_workflow(dict)
    attempts: list[tuple[str, ...]] = []

    def flaky(ctx: AgentContext[Any]) -> None:
        attempts.append(tuple(s.id for s in ctx.signals))
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")

    agents = {
        "a": wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["a:done"]),
        "b": wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["b:done"]),
        "j": wf.agent(body=flaky, activate_on=[all_of("a:done", "b:done")]),
    }
    result = await wf.run_reactive(
        agents=agents, state={}, restart=RestartPolicy(max_restarts=2, period=60)
    )
    assert result.status == "completed"
    assert len(attempts) == 2 and attempts[0] == attempts[1] and len(attempts[0]) == 2
