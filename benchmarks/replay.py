"""Benchmark: replaying a recorded 10-agent workflow, from each kind of store.

Each case records a 10-agent workflow once (scripted harness), then replays it many times
with ``recording=Recording(mode="replay", ...)`` and times each whole replay: loading the
recording from the store, indexing its harness calls, and the run itself. Every replay is
checked to reach the recorded final state.

Prints one JSON line per case, then a table. Without ``--smoke`` the exit status is 1 when a
case's median is over the budget (20 ms). ``--smoke`` runs a few replays per case (used by the
test suite) and never fails on timing.

    python benchmarks/replay.py [--smoke] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio

from openharness_actors import (
    JsonlSignalStore,
    MemorySignalStore,
    Recording,
    ScriptedHarness,
    SignalStore,
    SqliteSignalStore,
    create_workflow,
)

BUDGET_MS = 20.0
AGENTS = 10


def fanout() -> tuple[Any, dict[str, Any]]:
    """Ten agents answering the same trigger in parallel, each writing its own key."""
    wf = create_workflow(dict)
    agents = {
        f"agent{i}": wf.agent(
            prompt=f"Agent {i}: look at {{{{ state.topic }}}}",
            activate_on="workflow:start",
            updates=f"out{i}",
        )
        for i in range(AGENTS)
    }
    state = {"topic": "tides", **{f"out{i}": None for i in range(AGENTS)}}
    return wf, {"agents": agents, "state": state}


def pipeline() -> tuple[Any, dict[str, Any]]:
    """Ten agents in a chain, each prompted with the previous one's output."""
    wf = create_workflow(dict)
    agents = {}
    for i in range(AGENTS):
        previous = "{{ state.topic }}" if i == 0 else f"{{{{ state.out{i - 1} }}}}"
        agents[f"agent{i}"] = wf.agent(
            prompt=f"Step {i}: refine {previous}",
            activate_on="workflow:start" if i == 0 else f"step:{i - 1}",
            updates=f"out{i}",
            emits=[f"step:{i}"],
        )
    state = {"topic": "tides", **{f"out{i}": None for i in range(AGENTS)}}
    return wf, {"agents": agents, "state": state}


def diamond() -> tuple[Any, dict[str, Any]]:
    """Eight parallel researchers, a reducer gathering them, an aggregator and a judge."""
    wf = create_workflow(dict)
    agents = {
        f"researcher{i}": wf.agent(
            prompt=f"Research angle {i} of {{{{ state.topic }}}}",
            activate_on="workflow:start",
            emits=["found"],
        )
        for i in range(8)
    }
    agents["aggregator"] = wf.agent(
        prompt="Aggregate {{ state.findings }}",
        activate_on="state:findings:changed",
        when=lambda ctx: len(ctx.signal.payload["new_value"]) == 8,
        updates="summary",
        emits=["aggregated"],
    )
    agents["judge"] = wf.agent(
        prompt="Judge {{ state.summary }}", activate_on="aggregated", updates="verdict"
    )

    def gather(state: Any, signal: Any) -> Any:
        return state.set("findings", tuple(sorted((*state["findings"], signal.payload["output"]))))

    state = {"topic": "tides", "findings": (), "summary": None, "verdict": None}
    return wf, {"agents": agents, "state": state, "reducers": {"found": gather}}


CASES: dict[str, Callable[[], tuple[Any, dict[str, Any]]]] = {
    "fanout": fanout,
    "pipeline": pipeline,
    "diamond": diamond,
}


def stores(directory: Path) -> dict[str, SignalStore]:
    return {
        "memory": MemorySignalStore(),
        "sqlite": SqliteSignalStore(directory / "bench.db"),
        "jsonl": JsonlSignalStore(directory / "jsonl"),
    }


async def measure(case: str, store_name: str, store: SignalStore, runs: int) -> dict[str, Any]:
    wf, options = CASES[case]()
    harness = ScriptedHarness(default=lambda request: f"{request.agent} on {request.prompt}", chunk_size=8)
    recorded = await wf.run_reactive(
        **options, harness=harness, recording=Recording(mode="record", store=store, name=case)
    )
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        replayed = await wf.run_reactive(
            **options,
            recording=Recording(mode="replay", store=store, recording_id=recorded.recording_id),
        )
        timings.append((time.perf_counter() - started) * 1000)
        if replayed.state != recorded.state:
            raise AssertionError(f"{case}/{store_name}: replay reached a different state")
    timings.sort()
    median = statistics.median(timings)
    return {
        "case": case,
        "store": store_name,
        "agents": len(options["agents"]),
        "signals": len(recorded.signals),
        "runs": runs,
        "median_ms": round(median, 3),
        "p95_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.95))], 3),
        "min_ms": round(timings[0], 3),
        "budget_ms": BUDGET_MS,
        "ok": median < BUDGET_MS,
    }


async def main(runs: int) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for store_name, store in stores(Path(directory)).items():
            for case in CASES:
                rows.append(await measure(case, store_name, store, runs))
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    header = f"{'case':<10} {'store':<7} {'agents':>6} {'signals':>7} {'median ms':>10} {'p95 ms':>8} {'ok':>3}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row['case']:<10} {row['store']:<7} {row['agents']:>6} {row['signals']:>7} "
            f"{row['median_ms']:>10.2f} {row['p95_ms']:>8.2f} {'yes' if row['ok'] else 'NO':>3}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a few replays per case, no timing verdict")
    parser.add_argument("--runs", type=int, default=None, help="replays per case (default 200, smoke 5)")
    arguments = parser.parse_args()
    count = arguments.runs or (5 if arguments.smoke else 200)
    results = trio.run(main, count)
    for result in results:
        print(json.dumps(result, sort_keys=True))
    print(table(results))
    if not arguments.smoke and not all(result["ok"] for result in results):
        sys.exit(1)
