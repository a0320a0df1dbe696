"""LangGraph (``StateGraph``, async nodes, ``ainvoke``): the three peer workloads, the natural way.

* fanout N: a ``start`` node; its conditional edge returns N ``Send("work", {"i": i})``; each
  ``work`` node returns ``{"entries": {f"k{i}": "ok"}}``, merged by an ``operator.or_`` reducer.
* chain N: N distinct nodes ``n0 -> ... -> n<N-1>``, each returning ``counter + 1``
  (``recursion_limit`` raised to N + 10, as a graph this long needs).
* many-runs M: one compiled 3-node graph ``a -> b -> c`` (each returns its key), M concurrent
  ``ainvoke`` calls gathered in one ``asyncio.run``.

No checkpointer. The graphs are compiled before the clock starts; each measured run is one
``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import operator
from importlib.metadata import version
from typing import Annotated, Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Send
from peerlib import Build, main


class FanState(TypedDict):
    entries: Annotated[dict[str, str], operator.or_]


class ChainState(TypedDict):
    counter: str


class ThreeState(TypedDict):
    a: str | None
    b: str | None
    c: str | None


def fanout(n: int) -> Any:
    async def start(state: FanState) -> dict[str, Any]:
        return {}

    def spread(state: FanState) -> list[Send]:
        return [Send("work", {"i": i}) for i in range(n)]

    async def work(arg: dict[str, int]) -> dict[str, Any]:
        return {"entries": {f"k{arg['i']}": "ok"}}

    builder = StateGraph(FanState)
    builder.add_node("start", start)
    builder.add_node("work", work)
    builder.add_edge(START, "start")
    builder.add_conditional_edges("start", spread, ["work"])
    builder.add_edge("work", END)
    graph = builder.compile()

    def run() -> tuple[int, dict[str, Any]]:
        out = asyncio.run(graph.ainvoke({"entries": {}}))
        written = sum(1 for v in out["entries"].values() if v == "ok")
        assert written == n, f"{written} of {n} keys written"
        return n, {"written": written}

    return run


async def _bump(state: ChainState) -> dict[str, Any]:
    return {"counter": str(int(state["counter"]) + 1)}


def chain(n: int) -> Any:
    builder = StateGraph(ChainState)
    for i in range(n):
        builder.add_node(f"n{i}", _bump)
    builder.add_edge(START, "n0")
    for i in range(n - 1):
        builder.add_edge(f"n{i}", f"n{i + 1}")
    builder.add_edge(f"n{n - 1}", END)
    graph = builder.compile()
    config = {"recursion_limit": n + 10}

    def run() -> tuple[int, dict[str, Any]]:
        out = asyncio.run(graph.ainvoke({"counter": "0"}, config))
        assert out["counter"] == str(n), out
        return n, {"counter": out["counter"]}

    return run


def many_runs(m: int) -> Any:
    def node(key: str) -> Any:
        async def write(state: ThreeState) -> dict[str, Any]:
            return {key: key.upper()}

        return write

    builder = StateGraph(ThreeState)
    for key in "abc":
        builder.add_node(key, node(key))
    builder.add_edge(START, "a")
    builder.add_edge("a", "b")
    builder.add_edge("b", "c")
    builder.add_edge("c", END)
    graph = builder.compile()

    async def all_runs() -> list[Any]:
        return await asyncio.gather(
            *(graph.ainvoke({"a": None, "b": None, "c": None}) for _ in range(m))
        )

    def run() -> tuple[int, dict[str, Any]]:
        outs = asyncio.run(all_runs())
        checked = sum(1 for o in outs if (o["a"], o["b"], o["c"]) == ("A", "B", "C"))
        assert checked == m, f"{checked} of {m} runs"
        return m, {"runs": checked}

    return run


BUILDS: dict[str, Build] = {"fanout": fanout, "chain": chain, "many-runs": many_runs}

if __name__ == "__main__":
    main("langgraph", f"langgraph {version('langgraph')}", BUILDS)
