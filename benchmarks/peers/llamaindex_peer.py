"""LlamaIndex Workflows (``workflows``: ``Workflow``, ``@step``, events): the peer workloads.

State lives in the run's ``Context`` store (``await ctx.store.set``), the documented way.

* fanout N: a ``start`` step sends N ``Work`` events with ``ctx.send_event`` (the documented
  fan-out), a ``work`` step writes ``k<i>`` and returns ``Done``, a ``collect`` step gathers
  them with ``ctx.collect_events(ev, [Done] * N)`` and returns the ``StopEvent``.
* chain N: one ``step`` that handles ``StepEvent(i)`` and returns ``StepEvent(i + 1)`` (the
  counter bumped in the store) until the N-th, which returns ``StopEvent``: a step's event type
  is its routing, so N activations of one step is how a chain of equal nodes is written.
* many-runs M: a 3-step workflow ``a -> b -> c`` (``StartEvent -> ADone -> BDone ->
  StopEvent``, each writing its key), M concurrent ``await wf.run()`` gathered in one
  ``asyncio.run``.

Workflow objects are built before the clock starts; each measured run is one ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from typing import Any

from peerlib import Build, main
from workflows import Context, Workflow, step
from workflows.events import Event, StartEvent, StopEvent


class Work(Event):
    i: int


class Done(Event):
    i: int


class FanStart(StartEvent):
    n: int


class Fanout(Workflow):
    @step
    async def start(self, ctx: Context, ev: FanStart) -> Work | None:
        await ctx.store.set("n", ev.n)
        for i in range(ev.n):
            ctx.send_event(Work(i=i))
        return None

    @step
    async def work(self, ctx: Context, ev: Work) -> Done:
        await ctx.store.set(f"k{ev.i}", "ok")
        return Done(i=ev.i)

    @step
    async def collect(self, ctx: Context, ev: Done) -> StopEvent | None:
        n = await ctx.store.get("n")
        events = ctx.collect_events(ev, [Done] * n)
        if events is None:
            return None
        written = 0
        for i in range(n):
            written += await ctx.store.get(f"k{i}") == "ok"
        return StopEvent(result=written)


def fanout(n: int) -> Any:
    wf = Fanout(timeout=None)

    async def go() -> int:
        return await wf.run(start_event=FanStart(n=n))

    def run() -> tuple[int, dict[str, Any]]:
        written = asyncio.run(go())
        assert written == n, f"{written} of {n} keys written"
        return n, {"written": written}

    return run


class StepEvent(Event):
    i: int


class ChainStart(StartEvent):
    n: int


class Chain(Workflow):
    @step
    async def begin(self, ctx: Context, ev: ChainStart) -> StepEvent:
        await ctx.store.set("n", ev.n)
        await ctx.store.set("counter", "0")
        return StepEvent(i=0)

    @step
    async def bump(self, ctx: Context, ev: StepEvent) -> StepEvent | StopEvent:
        counter = str(int(await ctx.store.get("counter")) + 1)
        await ctx.store.set("counter", counter)
        if ev.i + 1 < await ctx.store.get("n"):
            return StepEvent(i=ev.i + 1)
        return StopEvent(result=counter)


def chain(n: int) -> Any:
    wf = Chain(timeout=None)

    async def go() -> str:
        return await wf.run(start_event=ChainStart(n=n))

    def run() -> tuple[int, dict[str, Any]]:
        counter = asyncio.run(go())
        assert counter == str(n), counter
        return n, {"counter": counter}

    return run


class ADone(Event):
    pass


class BDone(Event):
    pass


class Three(Workflow):
    @step
    async def a(self, ctx: Context, ev: StartEvent) -> ADone:
        await ctx.store.set("a", "A")
        return ADone()

    @step
    async def b(self, ctx: Context, ev: ADone) -> BDone:
        await ctx.store.set("b", "B")
        return BDone()

    @step
    async def c(self, ctx: Context, ev: BDone) -> StopEvent:
        await ctx.store.set("c", "C")
        state = [await ctx.store.get(key) for key in "abc"]
        return StopEvent(result=state)


def many_runs(m: int) -> Any:
    wf = Three(timeout=None)

    async def all_runs() -> list[Any]:
        return await asyncio.gather(*(wf.run() for _ in range(m)))

    def run() -> tuple[int, dict[str, Any]]:
        outs = asyncio.run(all_runs())
        checked = sum(1 for o in outs if o == ["A", "B", "C"])
        assert checked == m, f"{checked} of {m} runs"
        return m, {"runs": checked}

    return run


BUILDS: dict[str, Build] = {"fanout": fanout, "chain": chain, "many-runs": many_runs}

if __name__ == "__main__":
    main(
        "llamaindex-workflows", f"llama-index-workflows {version('llama-index-workflows')}", BUILDS
    )
