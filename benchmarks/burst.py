"""burst: ~100k signals through one run's broker, fanned out to 10 subscribers, one slow.

A producer publishes T ``tick`` signals back to back into the broker's bounded inbox (in the
framework, a run extension calling the broker's ``publish``, the path every agent uses; in
the baseline, a producer task calling :meth:`benchlib.BareRun.publish`). Each tick is routed to
10 plain-Python subscriber agents; each delivery is an activation (``agent:activated``,
``agent:completed``). So the broker carries ``21 T + 2`` signals; T is chosen so that this is
about N (100k by default: T = 4761).

Subscriber ``slow`` has ``max_concurrency=4`` and sleeps 1 ms per activation. The case runs on
``MockClock(autojump_threshold=0)``: the clock only advances when every task is blocked, so the
slow agent cannot finish anything while the burst is still flowing and its backlog grows to
the whole burst (the worst case), while its sleeps cost no wall time — the wall time is the
engine's work. Checks: every subscriber completed exactly T activations, every tick is in the
trace, and the slow agent never ran more than 4 activations at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio
from benchlib import BareAgent, BareRun, BareSignal, Case, Outcome, Runner, main

from openharness_actors import AgentContext, Signal, SignalSource, WorkflowResult, create_workflow

if TYPE_CHECKING:
    from openharness_actors._core._run import RunCore

SUBSCRIBERS = 10
SLOW_LIMIT = 4
SLOW_DELAY = 0.001
NAMES = [f"fast{i}" for i in range(SUBSCRIBERS - 1)] + ["slow"]


def ticks_for(n: int) -> int:
    """Ticks T such that the broker carries about ``n`` signals (``21 T + 2``)."""
    return max(1, (n - 2) // (1 + 2 * SUBSCRIBERS))


class Concurrency:
    """Counts the slow agent's activations in flight, and the most at once."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def slow(self) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await trio.sleep(SLOW_DELAY)
        finally:
            self.now -= 1


def _check(ticks: int, names: list[str], agents: list[str | None], peak: int) -> Outcome:
    assert names.count("tick") == ticks, f"{names.count('tick')} ticks of {ticks} in the trace"
    for name in NAMES:
        done = sum(
            1 for n, a in zip(names, agents, strict=True) if n == "agent:completed" and a == name
        )
        assert done == ticks, f"{name} completed {done} of {ticks}"
    assert 1 <= peak <= SLOW_LIMIT, f"slow agent ran {peak} at once"
    assert len(names) == (1 + 2 * SUBSCRIBERS) * ticks + 2, f"{len(names)} signals"
    first_slow = next(
        i
        for i, (n, a) in enumerate(zip(names, agents, strict=True))
        if n == "agent:completed" and a == "slow"
    )
    backlog = names[:first_slow].count("tick")
    return Outcome(
        units=len(names),
        signals=len(names),
        checks={"ticks": ticks, "slow_peak": peak, "ticks_before_first_slow_completion": backlog},
    )


class Producer:
    """A run extension publishing ``ticks`` signals as fast as the broker takes them."""

    def __init__(self, ticks: int) -> None:
        self.ticks = ticks

    def attach(self, core: RunCore) -> None:
        self._core = core
        core.work.add()  # the run is not quiescent while the producer has ticks left

    def observe(self, signal: Signal) -> None:
        pass

    async def run(self) -> None:
        publish = self._core.broker.publish
        source = SignalSource("producer")
        try:
            for i in range(self.ticks):
                await publish("tick", {"n": i}, source)
        finally:
            self._core.work.done()

    async def finish(self, result: WorkflowResult[object]) -> None:
        pass


def framework(n: int) -> Runner:
    ticks = ticks_for(n)
    wf = create_workflow(dict)
    concurrency = Concurrency()

    async def slow(ctx: AgentContext[Any]) -> None:
        await concurrency.slow()

    def fast(ctx: AgentContext[Any]) -> None:
        return None

    agents = {name: wf.agent(body=fast, activate_on="tick") for name in NAMES[:-1]}
    agents["slow"] = wf.agent(body=slow, activate_on="tick", max_concurrency=SLOW_LIMIT)

    async def run() -> Outcome:
        core = wf.prepare(
            agents=agents, state={}, extensions=[Producer(ticks)], max_activations=None
        )
        result = await core.execute()
        signals = result.signals
        return _check(
            ticks, [s.name for s in signals], [s.agent for s in signals], concurrency.peak
        )

    return run


def baseline(n: int) -> Runner:
    ticks = ticks_for(n)
    concurrency = Concurrency()

    def fast(state: dict[str, Any], trigger: BareSignal) -> None:
        return None

    agents = [BareAgent(name, ("tick",), fast, harness=False) for name in NAMES[:-1]]
    agents.append(
        BareAgent(
            "slow",
            ("tick",),
            fast,
            harness=False,
            max_concurrency=SLOW_LIMIT,
            wait=concurrency.slow,
        )
    )

    async def produce(bare: BareRun) -> None:
        for i in range(ticks):
            await bare.publish("tick", {"n": i}, "producer", None)

    async def run() -> Outcome:
        bare = await BareRun(agents, {}, producer=produce).run()
        return _check(ticks, [s[1] for s in bare.log], [s[6] for s in bare.log], concurrency.peak)

    return run


CASE = Case(
    name="burst",
    unit="signal",
    sizes=(100_000,),
    smoke_sizes=(500,),
    baseline=baseline,
    framework=framework,
    description=__doc__ or "",
    mock_clock=True,
)

if __name__ == "__main__":
    main(CASE)
