"""pydantic-graph (``GraphBuilder`` API): the three peer workloads, the natural way.

* fanout N: a ``start`` step returns the N indices; ``.map()`` spreads them to a ``work`` step
  (N parallel tasks), each writing ``state.entries[f"k{i}"]``; a ``reduce_null`` join, then end.
* chain N: N distinct steps ``n0 -> n1 -> ... -> n<N-1>``, each bumping ``state.counter``.
* many-runs M: one 3-step graph ``a -> b -> c`` (each writes its field), M concurrent
  ``graph.run`` calls with their own state, gathered in one ``asyncio.run``.

The graphs are built before the clock starts; each measured run is one ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from peerlib import Build, main
from pydantic_graph import GraphBuilder, StepContext, reduce_null


@dataclass
class FanState:
    entries: dict[str, str] = field(default_factory=dict)


@dataclass
class ChainState:
    counter: str = "0"


@dataclass
class ThreeState:
    a: str | None = None
    b: str | None = None
    c: str | None = None


def fanout(n: int) -> Any:
    g = GraphBuilder(state_type=FanState)

    @g.step
    async def start(ctx: StepContext[FanState, None, None]) -> list[int]:
        return list(range(n))

    @g.step
    async def work(ctx: StepContext[FanState, None, int]) -> None:
        ctx.state.entries[f"k{ctx.inputs}"] = "ok"

    done = g.join(reduce_null, initial=None)
    g.add(
        g.edge_from(g.start_node).to(start),
        g.edge_from(start).map().to(work),
        g.edge_from(work).to(done),
        g.edge_from(done).to(g.end_node),
    )
    graph = g.build()

    def run() -> tuple[int, dict[str, Any]]:
        state = FanState()
        asyncio.run(graph.run(state=state))
        written = sum(1 for v in state.entries.values() if v == "ok")
        assert written == n, f"{written} of {n} keys written"
        return n, {"written": written}

    return run


async def _bump(ctx: StepContext[ChainState, None, None]) -> None:
    ctx.state.counter = str(int(ctx.state.counter) + 1)


def chain(n: int) -> Any:
    g = GraphBuilder(state_type=ChainState)
    steps = [g.step(_bump, node_id=f"n{i}") for i in range(n)]
    edges = [g.edge_from(g.start_node).to(steps[0])]
    edges += [g.edge_from(steps[i]).to(steps[i + 1]) for i in range(n - 1)]
    edges.append(g.edge_from(steps[-1]).to(g.end_node))
    g.add(*edges)
    graph = g.build()

    def run() -> tuple[int, dict[str, Any]]:
        state = ChainState()
        asyncio.run(graph.run(state=state))
        assert state.counter == str(n), state
        return n, {"counter": state.counter}

    return run


def many_runs(m: int) -> Any:
    g = GraphBuilder(state_type=ThreeState)

    @g.step
    async def a(ctx: StepContext[ThreeState, None, None]) -> None:
        ctx.state.a = "A"

    @g.step
    async def b(ctx: StepContext[ThreeState, None, None]) -> None:
        ctx.state.b = "B"

    @g.step
    async def c(ctx: StepContext[ThreeState, None, None]) -> None:
        ctx.state.c = "C"

    g.add(
        g.edge_from(g.start_node).to(a),
        g.edge_from(a).to(b),
        g.edge_from(b).to(c),
        g.edge_from(c).to(g.end_node),
    )
    graph = g.build()

    async def one() -> bool:
        state = ThreeState()
        await graph.run(state=state)
        return (state.a, state.b, state.c) == ("A", "B", "C")

    async def all_runs() -> list[bool]:
        return await asyncio.gather(*(one() for _ in range(m)))

    def run() -> tuple[int, dict[str, Any]]:
        checked = sum(asyncio.run(all_runs()))
        assert checked == m, f"{checked} of {m} runs"
        return m, {"runs": checked}

    return run


BUILDS: dict[str, Build] = {"fanout": fanout, "chain": chain, "many-runs": many_runs}

if __name__ == "__main__":
    main("pydantic-graph", f"pydantic-graph {version('pydantic-graph')}", BUILDS)
