"""Run semantics (DESIGN §4): activation, guards, end_when, quiescence, failures, limits."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    ActivationLimitError,
    HarnessError,
    HarnessRequest,
    ScriptedHarness,
    Signal,
    Usage,
    UserCodeError,
    WorkflowResult,
    WorkflowTimeoutError,
    create_workflow,
)
from openharness_actors._core._ambient import observing


@attrs.frozen
class Doc:
    input: str = "text"
    result: str | None = None
    review: str | None = None
    summary: str | None = None


def names(result: WorkflowResult[Any]) -> list[str]:
    return [s.name for s in result.signals]


def by_id(result: WorkflowResult[Any]) -> dict[str, Signal]:
    return {s.id: s for s in result.signals}


def output(value: int) -> Callable[[Any], int]:
    """A body whose output is ``value``."""
    return lambda ctx: value


def assert_trace_well_formed(result: WorkflowResult[Any]) -> None:
    """Seq is 0..n-1, the trace starts and ends correctly, every parent chain reaches start."""
    signals = result.signals
    assert [s.seq for s in signals] == list(range(len(signals)))
    assert signals[0].name == "workflow:start"
    assert signals[-1].name == "workflow:end"
    index = by_id(result)
    start_id = signals[0].id
    for signal in signals[1:]:
        seen = set()
        current = signal
        while current.source.parent is not None:
            assert current.id not in seen
            seen.add(current.id)
            parent = index[current.source.parent]
            assert parent.seq < current.seq, (parent, current)
            current = parent
        assert current.id == start_id, signal


async def test_fanout_of_100_agents_runs_in_parallel() -> None:
    """100 agents on workflow:start all activate, concurrently, and each writes its key."""
    wf = create_workflow(dict)
    agents = {
        f"a{i}": wf.agent(prompt=f"task {i}", activate_on=["workflow:start"], updates=f"k{i}")
        for i in range(100)
    }
    running = 0
    peak = 0
    all_in = trio.Event()

    async def reply(request: HarnessRequest) -> str:
        # Each call waits until all 100 are in flight at once: only parallel runs finish.
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 100:
            all_in.set()
        with trio.fail_after(10):
            await all_in.wait()
        running -= 1
        return request.prompt.upper()

    result = await wf.run_reactive(
        agents=agents,
        state={f"k{i}": None for i in range(100)},
        harness=ScriptedHarness(default=reply),
    )
    assert result.status == "completed"
    assert all(result.state[f"k{i}"] == f"TASK {i}" for i in range(100))
    assert peak == 100
    assert result.metrics.activations == 100
    assert all(m.completed == 1 for m in result.metrics.agents.values())
    assert_trace_well_formed(result)


async def test_chain_of_50() -> None:
    """Each agent wakes on the previous one's emit and sees the state it committed."""
    wf = create_workflow(dict)
    agents = {}
    for i in range(50):
        trigger = "workflow:start" if i == 0 else f"step{i - 1}:done"
        agents[f"s{i}"] = wf.agent(
            body=lambda ctx: (ctx.state["count"] or 0) + 1,
            activate_on=[trigger],
            emits=[f"step{i}:done"],
            updates="count",
        )
    result = await wf.run_reactive(agents=agents, state={"count": 0})
    assert result.state["count"] == 50
    changed = [s for s in result.signals if s.name == "state:count:changed"]
    assert [s.payload["old_value"] for s in changed] == list(range(50))
    assert [s.payload["new_value"] for s in changed] == list(range(1, 51))
    assert_trace_well_formed(result)


async def test_guard_false_skips_with_reason() -> None:
    """A false guard publishes agent:skipped and never calls the harness."""
    wf = create_workflow(Doc)
    harness = ScriptedHarness({"a": "x", "b": "y"})
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result")
    b = wf.agent(
        prompt="b", activate_on=["workflow:start"], updates="review", when=lambda ctx: False
    )
    result = await wf.run_reactive(agents={"a": a, "b": b}, state=Doc(), harness=harness)
    skipped = result.signals_named("agent:skipped")
    assert [s.payload for s in skipped] == [
        {"agent": "b", "trigger": "workflow:start", "reason": "guard"}
    ]
    assert harness.count("b") == 0
    assert result.state.review is None
    assert result.metrics.agents["b"].skipped == 1


async def test_guard_sees_state_and_signal() -> None:
    """The guard's context carries the snapshot, the trigger and the initial input."""
    wf = create_workflow(Doc)
    seen: list[tuple[str | None, str, str]] = []

    def guard(ctx: Any) -> bool:
        seen.append((ctx.state.result, ctx.signal.name, ctx.input.input))
        return True

    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result", emits=["a:done"])
    b = wf.agent(prompt="b", activate_on=["a:done"], updates="review", when=guard)
    await wf.run_reactive(
        agents={"a": a, "b": b}, state=Doc(), harness=ScriptedHarness({"a": "A", "b": "B"})
    )
    assert seen == [("A", "a:done", "text")]


async def test_end_when_cancels_slow_agent(autojump_clock: trio.testing.MockClock) -> None:
    """end_when stops the run: the slow agent is cancelled, late triggers are skipped."""
    wf = create_workflow(Doc)
    harness = ScriptedHarness({"fast": "done", "slow": "late"}, delay={"fast": 1.0, "slow": 100.0})
    fast = wf.agent(prompt="f", activate_on=["workflow:start"], updates="result", emits=["f:done"])
    slow = wf.agent(prompt="s", activate_on=["workflow:start"], updates="review")
    after = wf.agent(prompt="x", activate_on=["f:done"], updates="summary")
    start = trio.current_time()
    result = await wf.run_reactive(
        agents={"fast": fast, "slow": slow, "after": after},
        state=Doc(),
        harness=harness,
        end_when=lambda s: s.result is not None,
    )
    assert trio.current_time() - start < 2
    assert result.terminated_early and result.status == "terminated"
    assert result.state == Doc(result="done")
    cancelled = result.signals_named("agent:cancelled")
    assert [s.payload["agent"] for s in cancelled] == ["slow"]
    skipped = result.signals_named("agent:skipped")
    assert [(s.payload["agent"], s.payload["reason"]) for s in skipped] == [("after", "run ending")]
    order = names(result)
    # The update rides on agent:completed; the change it makes ends the run (DESIGN §9).
    assert order.index("agent:completed") < order.index("state:result:changed")
    assert order.index("state:result:changed") < order.index("workflow:terminating")
    assert result.metrics.agents["slow"].cancelled == 1
    assert_trace_well_formed(result)


async def test_end_when_drain_lets_in_flight_finish(autojump_clock: trio.testing.MockClock) -> None:
    """With on_end='drain', in-flight activations finish and commit; new ones are refused."""
    wf = create_workflow(Doc)
    harness = ScriptedHarness({"fast": "done", "slow": "late"}, delay={"fast": 1.0, "slow": 5.0})
    fast = wf.agent(prompt="f", activate_on=["workflow:start"], updates="result", emits=["f:done"])
    slow = wf.agent(prompt="s", activate_on=["workflow:start"], updates="review")
    after = wf.agent(prompt="x", activate_on=["f:done"], updates="summary")
    result = await wf.run_reactive(
        agents={"fast": fast, "slow": slow, "after": after},
        state=Doc(),
        harness=harness,
        end_when=lambda s: s.result is not None,
        on_end="drain",
    )
    assert result.state == Doc(result="done", review="late")
    assert result.signals_named("agent:cancelled") == []
    assert result.metrics.agents["after"].skipped == 1


async def test_end_when_true_on_initial_state() -> None:
    """end_when is checked against the initial state: nothing activates."""
    wf = create_workflow(Doc)
    harness = ScriptedHarness({"a": "x"})
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result")
    result = await wf.run_reactive(
        agents={"a": a}, state=Doc(result="already"), harness=harness, end_when=lambda s: True
    )
    assert result.terminated_early
    assert harness.count() == 0
    assert names(result) == [
        "workflow:start",
        "workflow:terminating",
        "agent:skipped",
        "workflow:end",
    ]


async def test_quiescence_with_nothing_matching_start() -> None:
    """A run where no agent matches workflow:start ends at once, completed."""
    wf = create_workflow(Doc)
    a = wf.agent(prompt="a", activate_on=["never:happens"], updates="result")
    result = await wf.run_reactive(agents={"a": a}, state=Doc(), harness=ScriptedHarness())
    assert result.status == "completed"
    assert names(result) == ["workflow:start", "workflow:end"]
    assert result.signals[-1].payload["status"] == "completed"


async def test_timeout_raises_with_partial_result(autojump_clock: trio.testing.MockClock) -> None:
    """timeout cancels everything and raises a TimeoutError subclass with elapsed and partial."""
    wf = create_workflow(Doc)
    harness = ScriptedHarness({"a": "quick", "b": "never"}, delay={"a": 1.0, "b": 1000.0})
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result")
    b = wf.agent(prompt="b", activate_on=["workflow:start"], updates="review")
    with pytest.raises(WorkflowTimeoutError) as info:
        await wf.run_reactive(agents={"a": a, "b": b}, state=Doc(), harness=harness, timeout=10)
    error = info.value
    assert isinstance(error, TimeoutError)
    assert error.elapsed == pytest.approx(10, abs=0.01)
    assert error.partial is not None
    assert error.partial.status == "timeout"
    assert error.partial.state.result == "quick"
    assert error.partial.signals[-1].name == "workflow:end"
    assert error.partial.signals[-1].payload["status"] == "timeout"


async def test_harness_failure_names_agent_and_chains_cause() -> None:
    """A failing harness call raises HarnessError with agent, cause and partial result."""
    wf = create_workflow(Doc)
    boom = RuntimeError("connection reset")
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result")
    with pytest.raises(HarnessError) as info:
        await wf.run_reactive(agents={"a": a}, state=Doc(), harness=ScriptedHarness({"a": boom}))
    error = info.value
    assert error.agent == "a"
    assert error.__cause__ is boom
    assert error.partial is not None and error.partial.status == "failed"
    order = names(error.partial)
    assert "harness:error" in order and "agent:failed" in order
    assert order[-1] == "workflow:end"


async def test_guard_that_raises_fails_the_run() -> None:
    """An exception in a guard is surfaced as UserCodeError naming the guard, never swallowed."""
    wf = create_workflow(Doc)

    def guard(ctx: Any) -> bool:
        raise ValueError("bad guard")

    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result", when=guard)
    with pytest.raises(UserCodeError, match="guard of agent 'a'") as info:
        await wf.run_reactive(agents={"a": a}, state=Doc(), harness=ScriptedHarness({"a": "x"}))
    assert isinstance(info.value.__cause__, ValueError)
    assert info.value.agent == "a"


@pytest.mark.parametrize("where", ["reducer", "end_when", "body", "prompt"])
async def test_user_code_errors_fail_loudly(where: str) -> None:
    """Reducers, end_when, bodies and prompt callables that raise fail the run."""
    wf = create_workflow(Doc)

    def broken(*args: Any) -> Any:
        raise KeyError("oops")

    agent_kwargs: dict[str, Any] = {"activate_on": ["workflow:start"], "updates": "result"}
    if where == "body":
        agent_kwargs["body"] = broken
    elif where == "prompt":
        agent_kwargs["prompt"] = broken
    else:
        agent_kwargs["prompt"] = "p"
    a = wf.agent(**agent_kwargs)
    with pytest.raises(UserCodeError) as info:
        await wf.run_reactive(
            agents={"a": a},
            state=Doc(),
            harness=ScriptedHarness({"a": "x"}),
            reducers={"agent:completed": broken} if where == "reducer" else None,
            end_when=broken if where == "end_when" else None,
        )
    assert isinstance(info.value.__cause__, KeyError)
    assert info.value.partial is not None


async def test_reducers_lose_nothing_under_1000_parallel_activations() -> None:
    """1000 parallel activations appending to one list through a reducer: all 1000 land."""
    wf = create_workflow(dict)
    agents = {
        f"w{i}": wf.agent(body=output(i), activate_on=["workflow:start"], emits=["item"])
        for i in range(1000)
    }

    def collect(state: Any, signal: Signal) -> Any:
        return state.set("items", (*state["items"], signal.payload["output"]))

    result = await wf.run_reactive(agents=agents, state={"items": ()}, reducers={"item": collect})
    assert sorted(result.state["items"]) == list(range(1000))
    changed = result.signals_named("state:items:changed")
    assert len(changed) == 1000
    assert [len(s.payload["old_value"]) for s in changed] == list(range(1000))


async def test_state_changed_only_on_real_change() -> None:
    """Writing the same value again publishes no state:*:changed signal."""
    wf = create_workflow(Doc)
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result", emits=["again"])
    b = wf.agent(prompt="b", activate_on=["again"], updates="result")
    result = await wf.run_reactive(
        agents={"a": a, "b": b}, state=Doc(), harness=ScriptedHarness(default="same")
    )
    assert len(result.signals_named("state:result:changed")) == 1


@pytest.mark.parametrize("mailbox_size", [0, 1])
async def test_burst_of_10k_signals_with_slow_agent(
    mailbox_size: int, autojump_clock: trio.testing.MockClock
) -> None:
    """A 10k-signal burst through tiny mailboxes and inbox, one slow agent: no loss, no deadlock."""
    wf = create_workflow(dict)

    async def burst(ctx: Any) -> int:
        return 0

    producer = wf.agent(
        body=burst, activate_on=["workflow:start"], emits=[f"tick:{i}" for i in range(10)]
    )
    # Ten agents each emit 1000 ticks in one activation: 10k signals in a burst.
    producers = {
        f"p{i}": wf.agent(body=burst, activate_on=["go"], emits=[f"tick:{j}" for j in range(1000)])
        for i in range(10)
    }
    starter = wf.agent(body=burst, activate_on=["workflow:start"], emits=["go"])
    counts: Counter[str] = Counter()

    async def fast(ctx: Any) -> None:
        counts["fast"] += 1

    async def slow(ctx: Any) -> None:
        await trio.sleep(0.01)
        counts["slow"] += 1

    agents = {
        "starter": starter,
        **producers,
        "fast": wf.agent(body=fast, activate_on=["tick:*"]),
        "slow": wf.agent(body=slow, activate_on=["tick:**"], max_concurrency=1),
    }
    del producer
    # 20,001 activations by design: past the default loop bound, so unbounded.
    result = await wf.run_reactive(
        agents=agents, state={}, mailbox_size=mailbox_size, inbox_size=1, max_activations=None
    )
    ticks = [s for s in result.signals if s.name.startswith("tick:")]
    assert len(ticks) == 10_000
    assert counts == {"fast": 10_000, "slow": 10_000}
    assert result.metrics.agents["slow"].completed == 10_000
    assert result.status == "completed"


@pytest.mark.parametrize("mailbox_size", [0, 1, 64])
async def test_deliveries_keep_log_order_when_mailboxes_fill(mailbox_size: int) -> None:
    """Publishers route their own signals until a mailbox is full; then the broker task
    delivers the rest and later signals queue behind them: every agent still gets its
    triggers in log order, each with the state as of its place in the log (DESIGN §9).
    The slow agent's mailbox fills first; the fast one's deliveries must wait their turn."""
    wf = create_workflow(dict)

    async def burst(ctx: Any) -> int:
        return 0

    seen: dict[str, list[tuple[int, int]]] = {"slow": [], "fast": []}

    def watcher(name: str) -> Callable[[Any], Any]:
        async def watch(ctx: Any) -> None:
            seen[name].append((ctx.signal.seq, ctx.state["ticks"]))
            if name == "slow":
                await trio.lowlevel.checkpoint()

        return watch

    agents = {
        "burst": wf.agent(
            body=burst,
            activate_on=["workflow:start"],
            updates="out",
            emits=[f"tick:{i}" for i in range(300)],
        ),
        "slow": wf.agent(body=watcher("slow"), activate_on=["tick:*"], max_concurrency=1),
        "fast": wf.agent(body=watcher("fast"), activate_on=["tick:*"], max_concurrency=1),
    }
    with trio.fail_after(10):
        result = await wf.run_reactive(
            agents=agents,
            state={"out": None, "ticks": 0},
            reducers={"tick:*": lambda state, signal: {**state, "ticks": state["ticks"] + 1}},
            mailbox_size=mailbox_size,
            max_activations=None,
        )
    ticks = [s.seq for s in result.signals if s.name.startswith("tick:")]
    assert len(ticks) == 300
    changes = [s.seq for s in result.signals if s.name == "state:ticks:changed"]
    # One at a time, each agent runs its triggers in the order they were delivered.
    assert [seq for seq, _ in seen["slow"]] == ticks
    assert [seq for seq, _ in seen["fast"]] == ticks
    for name in ("slow", "fast"):
        for seq, ticks_seen in seen[name]:
            assert ticks_seen == sum(1 for change in changes if change < seq), (name, seq)


async def test_a_publisher_waits_while_the_broker_is_behind() -> None:
    """Backpressure survives publishers routing their own signals: once a mailbox is full,
    publishing goes through the broker's bounded inbox. A producer publishing 500 emits
    without ever blocking would log them all before its consumer first runs; held back by
    the inbox, it has logged only a few by then."""
    wf = create_workflow(dict)
    logged_when_consumed: list[int] = []
    logged = 0

    def observer(signal: Any) -> None:
        nonlocal logged
        if signal.name.startswith("tick:"):
            logged += 1

    async def produce(ctx: Any) -> int:
        return 0

    async def consume(ctx: Any) -> None:
        logged_when_consumed.append(logged)

    agents = {
        "producer": wf.agent(
            body=produce, activate_on=["workflow:start"], emits=[f"tick:{i}" for i in range(500)]
        ),
        "consumer": wf.agent(body=consume, activate_on=["tick:*"], max_concurrency=1),
    }
    with trio.fail_after(10), observing(observer):
        result = await wf.run_reactive(
            agents=agents, state={}, mailbox_size=1, inbox_size=1, max_activations=None
        )
    assert result.metrics.agents["consumer"].completed == 500
    # Ahead of the first consumption: the mailbox, the delivery a publisher could not
    # make, the inbox, and the draft of the publisher waiting on it.
    assert logged_when_consumed[0] <= 5, logged_when_consumed[:10]


async def test_an_observer_raising_while_a_publisher_routes_fails_the_run_with_it() -> None:
    """Routing done in the publishing task (an agent's activation here) that raises is the
    broker's failure, not the agent's: the run raises it, no ``agent:failed`` is made."""
    wf = create_workflow(dict)
    seen: list[str] = []

    def observer(signal: Any) -> None:
        seen.append(signal.name)
        if signal.name == "harness:end":
            raise RuntimeError("observer broke")

    agents = {"a": wf.agent(prompt="x", activate_on="workflow:start", updates="k")}
    with trio.fail_after(5), observing(observer), pytest.raises(RuntimeError, match="observer"):
        await wf.run_reactive(
            agents=agents, state={"k": None}, harness=ScriptedHarness(default="ok")
        )
    assert "harness:end" in seen and "agent:failed" not in seen


async def test_max_concurrency_bounds_parallelism(autojump_clock: trio.testing.MockClock) -> None:
    """An agent with max_concurrency=3 never runs more than 3 activations at once, in order."""
    wf = create_workflow(dict)
    running = 0
    peak = 0
    order: list[int] = []

    async def work(ctx: Any) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        order.append(ctx.signal.payload["output"])
        await trio.sleep(1)
        running -= 1

    emitters = {
        f"e{i}": wf.agent(body=output(i), activate_on=["workflow:start"], emits=["job"])
        for i in range(12)
    }
    worker = wf.agent(body=work, activate_on=["job"], max_concurrency=3)
    start = trio.current_time()
    await wf.run_reactive(agents={**emitters, "worker": worker}, state={})
    assert peak == 3
    assert sorted(order) == list(range(12))
    assert trio.current_time() - start == pytest.approx(4, abs=0.01)


async def test_max_activations_names_busiest_agents() -> None:
    """A ping-pong loop hits max_activations with an error naming the busiest agents."""
    wf = create_workflow(dict)
    ping = wf.agent(body=lambda ctx: 1, activate_on=["workflow:start", "pong"], emits=["ping"])
    pong = wf.agent(body=lambda ctx: 2, activate_on=["ping"], emits=["pong"])
    with pytest.raises(ActivationLimitError, match="max_activations=20") as info:
        await wf.run_reactive(agents={"ping": ping, "pong": pong}, state={}, max_activations=20)
    error = info.value
    assert {name for name, _ in error.busiest} == {"ping", "pong"}
    assert "ping (10)" in str(error) and "pong (10)" in str(error)
    assert error.partial is not None and error.partial.metrics.activations == 20


async def test_agent_activates_once_when_several_patterns_match() -> None:
    """Overlapping patterns still give one activation per signal."""
    wf = create_workflow(Doc)
    harness = ScriptedHarness({"a": "x"})
    a = wf.agent(
        prompt="a", activate_on=["workflow:start", "workflow:*", "work*:st*"], updates="result"
    )
    result = await wf.run_reactive(agents={"a": a}, state=Doc(), harness=harness)
    assert harness.count("a") == 1
    assert result.metrics.activations == 1


async def test_host_cancellation_leaves_no_task_alive() -> None:
    """Cancelling the host's scope ends every task; workflow:end is still written."""
    wf = create_workflow(Doc)
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result")
    seen: list[Signal] = []

    class Keep:
        def on_signal(self, signal: Signal) -> None:
            seen.append(signal)

    root = trio.lowlevel.current_root_task()
    assert root is not None
    before = len(root.child_nurseries[0].child_tasks)
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                lambda: wf.run_reactive(
                    agents={"a": a},
                    state=Doc(),
                    harness=ScriptedHarness({"a": "x"}, delay=1000.0),
                    reporters=[Keep()],
                )
            )
            await trio.testing.wait_all_tasks_blocked()
            scope.cancel()
    assert scope.cancelled_caught
    await trio.testing.wait_all_tasks_blocked()
    after = len(root.child_nurseries[0].child_tasks)
    assert after == before
    assert seen[-1].name == "workflow:end"
    assert seen[-1].payload["status"] == "cancelled"


async def test_causality_every_signal_leads_to_start() -> None:
    """Harness, state and emitted signals carry agent and parent; chains reach workflow:start."""
    wf = create_workflow(Doc)
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result", emits=["a:done"])
    b = wf.agent(prompt="b", activate_on=["a:done"], updates="review", emits=["b:done"])
    result = await wf.run_reactive(
        agents={"a": a, "b": b},
        state=Doc(),
        harness=ScriptedHarness({"a": "A", "b": "B"}, chunk_size=1),
    )
    assert_trace_well_formed(result)
    index = by_id(result)
    for signal in result.signals:
        if signal.name.startswith(("harness:", "text:", "state:")):
            assert signal.source.agent in {"a", "b"}
            activated = index[signal.source.parent]  # type: ignore[index]
            assert activated.name == "agent:activated"
            assert activated.source.agent == signal.source.agent
    b_activated = next(
        s for s in result.signals if s.name == "agent:activated" and s.source.agent == "b"
    )
    assert index[b_activated.source.parent].name == "a:done"  # type: ignore[index]


async def test_downstream_sees_committed_state() -> None:
    """An agent woken by an emit always sees the update that preceded the emit."""
    wf = create_workflow(Doc)
    seen: list[str | None] = []
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result", emits=["a:done"])
    b = wf.agent(body=lambda ctx: seen.append(ctx.state.result), activate_on=["a:done"])
    await wf.run_reactive(agents={"a": a, "b": b}, state=Doc(), harness=ScriptedHarness({"a": "A"}))
    assert seen == ["A"]


async def test_emit_payload_is_structured_output() -> None:
    """Declared emits carry {agent, output} for text and the object itself for output types."""

    @attrs.frozen
    class Verdict:
        ok: bool
        reason: str

    wf = create_workflow(dict)
    text = wf.agent(prompt="t", activate_on=["workflow:start"], emits=["t:done"], updates="t")
    typed = wf.agent(
        prompt="v", activate_on=["workflow:start"], emits=["v:done"], updates="v", output=Verdict
    )
    result = await wf.run_reactive(
        agents={"text": text, "typed": typed},
        state={"t": None, "v": None},
        harness=ScriptedHarness(
            {"text": "hello", "typed": '```json\n{"ok": true, "reason": "fine"}\n```'}
        ),
    )
    assert result.signals_named("t:done")[0].payload == {"agent": "text", "output": "hello"}
    assert result.signals_named("v:done")[0].payload == {"ok": True, "reason": "fine"}
    assert result.state["v"] == Verdict(True, "fine")


async def test_retry_policy_backoff_under_mock_clock(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A retryable failure is retried with exact backoff gaps and visible agent:retry signals."""
    from openharness_actors import RetryPolicy

    wf = create_workflow(Doc)
    flaky = HarnessError("overloaded", code="overloaded_error", retryable=True)
    harness = ScriptedHarness({"a": [flaky, flaky, "ok"]})
    calls: list[float] = []
    original = harness.run

    async def timed(request: Any, emit: Any) -> Any:
        calls.append(trio.current_time())
        return await original(request, emit)

    harness.run = timed  # type: ignore[method-assign]
    a = wf.agent(
        prompt="a",
        activate_on=["workflow:start"],
        updates="result",
        retry=RetryPolicy(attempts=3, initial_delay=1.0, multiplier=2.0, jitter=0.0),
    )
    result = await wf.run_reactive(agents={"a": a}, state=Doc(), harness=harness)
    assert result.state.result == "ok"
    assert [round(b - a, 6) for a, b in itertools.pairwise(calls)] == [1.0, 2.0]
    retries = result.signals_named("agent:retry")
    assert [(s.payload["attempt"], s.payload["delay"]) for s in retries] == [(1, 1.0), (2, 2.0)]
    assert result.metrics.agents["a"].retries == 2


async def test_activation_timeout(autojump_clock: trio.testing.MockClock) -> None:
    """An activation over its agent's timeout fails the run with ActivationTimeoutError."""
    from openharness_actors import ActivationTimeoutError

    wf = create_workflow(Doc)
    a = wf.agent(prompt="a", activate_on=["workflow:start"], updates="result", timeout=5)
    with pytest.raises(ActivationTimeoutError) as info:
        await wf.run_reactive(
            agents={"a": a}, state=Doc(), harness=ScriptedHarness({"a": "x"}, delay=60.0)
        )
    assert info.value.agent == "a" and info.value.timeout == 5


async def test_metrics_per_agent() -> None:
    """Metrics count activations, usage and signals by name."""
    wf = create_workflow(Doc)
    a = wf.agent(prompt="abcdefgh", activate_on=["workflow:start"], updates="result")
    result = await wf.run_reactive(
        agents={"a": a}, state=Doc(), harness=ScriptedHarness({"a": "1234"})
    )
    m = result.metrics
    assert m.activations == 1
    assert m.agents["a"].usage.input_tokens == 2 and m.agents["a"].usage.output_tokens == 1
    assert m.usage == m.agents["a"].usage
    assert m.signals == len(result.signals)
    assert sum(m.signals_by_name.values()) == len(result.signals)
    assert m.signals_by_name["workflow:start"] == 1
    assert m.to_dict()["agents"]["a"]["completed"] == 1


def test_agent_stats_and_metrics_have_the_same_fields() -> None:
    """The mutable per-agent counters freeze into AgentMetrics field for field."""
    from openharness_actors import AgentMetrics
    from openharness_actors._core._run import AgentStats

    assert [f.name for f in attrs.fields(AgentStats)] == [
        f.name for f in attrs.fields(AgentMetrics)
    ]
    stats = AgentStats(
        activations=9,
        completed=1,
        failed=2,
        cancelled=3,
        skipped=4,
        retries=5,
        restarts=6,
        duration_ms=3.5,
        usage=Usage(input_tokens=7, output_tokens=8),
        cost_usd=0.25,
    )
    assert stats.freeze() == AgentMetrics(**attrs.asdict(stats, recurse=False))
