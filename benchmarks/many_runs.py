"""many-runs: M independent runs of a 3-agent chain (a -> b -> c), all at once in one process.

Framework: one workflow; M tasks started at once in one nursery, each running
``run_reactive`` (the run lives in that task), checking its result and dropping it, as a batch
job would. Each run: ``a`` on ``workflow:start`` emits ``a:done``, ``b`` emits ``b:done``,
``c`` emits ``c:done``; each writes its own key; 26 signals per run. Baseline: M
:class:`benchlib.BareRun` runs of the same three agents, the same way. So both sides have
exactly one task per run hosting it, and all M runs exist at once. (Starting runs one by one
with ``engine.start`` would not test this: each start is a checkpoint, so early runs finish
while later ones start and only a few dozen are ever alive together.)

Memory per concurrent run is measured separately, in a fresh process: all M runs are parked
in ``c``'s harness call (after ``a`` and ``b`` have committed, so most of each trace exists),
and the growth of RSS since before the runs started is divided by M.
"""

from __future__ import annotations

import gc
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import trio
from benchlib import BareAgent, BareRun, Case, Outcome, Runner, current_rss_kb, main

from openharness_actors import HarnessRequest, ScriptedHarness, create_workflow

SIGNALS_PER_RUN = 3 * 8 + 2
INITIAL = {"a": None, "b": None, "c": None}


def _check_one(state: Any, signals: int) -> None:
    assert (state["a"], state["b"], state["c"]) == ("A", "B", "C"), f"bad state {state!r}"
    assert signals == SIGNALS_PER_RUN, f"{signals} signals in one run"


def _framework_runner(m: int, gate: Callable[[], Awaitable[None]] | None) -> Runner:
    wf = create_workflow(dict)
    agents = {
        "a": wf.agent(prompt="a", activate_on="workflow:start", emits="a:done", updates="a"),
        "b": wf.agent(prompt="b", activate_on="a:done", emits="b:done", updates="b"),
        "c": wf.agent(prompt="c", activate_on="b:done", emits="c:done", updates="c"),
    }

    async def reply_c(request: HarnessRequest) -> str:
        if gate is not None:
            await gate()
        return "C"

    harness = ScriptedHarness({"a": "A", "b": "B", "c": reply_c})

    async def run() -> Outcome:
        checked = 0

        async def one() -> None:
            nonlocal checked
            result = await wf.run_reactive(agents=agents, state=INITIAL, harness=harness)
            _check_one(result.state, len(result.signals))
            checked += 1

        async with trio.open_nursery() as nursery:
            for _ in range(m):
                nursery.start_soon(one)
        assert checked == m, f"{checked} of {m} runs checked"
        return Outcome(units=m, signals=m * SIGNALS_PER_RUN, checks={"runs": checked})

    return run


def _baseline_runner(m: int, gate: Callable[[], Awaitable[None]] | None) -> Runner:
    def value(text: str) -> Callable[[dict[str, Any], Any], str]:
        return lambda state, trigger: text

    agents = [
        BareAgent("a", ("workflow:start",), value("A"), emits=("a:done",), updates="a"),
        BareAgent("b", ("a:done",), value("B"), emits=("b:done",), updates="b"),
        BareAgent("c", ("b:done",), value("C"), emits=("c:done",), updates="c", wait=gate),
    ]

    async def run() -> Outcome:
        checked = 0

        async def one() -> None:
            nonlocal checked
            bare = await BareRun(agents, dict(INITIAL)).run()
            _check_one(bare.state, len(bare.log))
            checked += 1

        async with trio.open_nursery() as nursery:
            for _ in range(m):
                nursery.start_soon(one)
        assert checked == m, f"{checked} of {m} runs checked"
        return Outcome(units=m, signals=m * SIGNALS_PER_RUN, checks={"runs": checked})

    return run


def framework(m: int) -> Runner:
    return _framework_runner(m, None)


def baseline(m: int) -> Runner:
    return _baseline_runner(m, None)


def memory_probe(impl: str, m: int) -> Mapping[str, Any]:
    """RSS growth per run with all ``m`` runs alive at once (parked in agent ``c``)."""
    arrived = 0
    parked = trio.Event()
    release = trio.Event()
    figures: dict[str, Any] = {}

    async def gate() -> None:
        nonlocal arrived
        arrived += 1
        if arrived == m:
            parked.set()
        await release.wait()

    build = _framework_runner if impl == "framework" else _baseline_runner
    runner = build(m, gate)

    async def measure() -> None:
        gc.collect()
        before = current_rss_kb()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(runner)
            await parked.wait()
            gc.collect()
            grown = current_rss_kb() - before
            figures["kb_per_run"] = round(grown / m, 2)
            figures["concurrent_runs"] = m
            release.set()

    trio.run(measure)
    return figures


CASE = Case(
    name="many-runs",
    unit="run",
    sizes=(100, 1000, 10000),
    smoke_sizes=(3,),
    baseline=baseline,
    framework=framework,
    extra_probe=memory_probe,
    description=__doc__ or "",
)

if __name__ == "__main__":
    main(CASE)
