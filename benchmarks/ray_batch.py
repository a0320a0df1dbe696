"""Benchmark: a batch of short cases in this process vs on a local Ray cluster.

Runs the same one-agent workflow (scripted harness, no delay, so each case is pure engine
work) over ``--cases`` inputs three ways: the local runner, Ray with one worker, and Ray with
``--workers`` workers, each with ``--concurrency`` cases in flight. For each it reports:

* ``cases_per_s`` — cases over the whole ``run_batch`` call, worker start-up included;
* ``first_result_s`` — time to the first result (starting the worker processes);
* ``steady_cases_per_s`` — cases per second after the first result;
* ``ms_per_case`` — steady wall time per case.

``ray_overhead_ms_per_case`` is the one-worker steady time per case minus the local time per
case: what shipping cases out and results back costs per case, one process against one.
The Ray cluster is started once (``ray.init(num_cpus=--cpus)``), unless this process is
already connected to one, and its start-up is reported apart.

Prints one JSON line per run, then a table. ``--smoke`` runs 200 cases (used by the tests).

    python benchmarks/ray_batch.py [--smoke] [--cases 2000] [--workers 2] [--cpus 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import attrs
import trio

from openharness_actors import BatchProgress, ScriptedHarness, create_workflow, run_batch
from openharness_actors.batch import RayOptions


@attrs.frozen
class Case:
    id: int
    text: str
    answer: str | None = None


wf = create_workflow(Case)
solver = wf.agent(prompt="solve {{ text }}", activate_on=["workflow:start"], updates="answer")


async def measure(
    name: str, cases: int, concurrency: int, ray: RayOptions | None
) -> dict[str, Any]:
    first: list[float] = []

    def progress(snapshot: BatchProgress) -> None:
        if snapshot.done and not first:
            first.append(time.perf_counter())

    began = time.perf_counter()
    batch = await run_batch(
        wf,
        [{"id": i, "text": str(i)} for i in range(cases)],
        agents={"solver": solver},
        harness=ScriptedHarness(default=lambda request: request.prompt.upper()),
        concurrency=concurrency,
        progress=progress,
        ray=ray,
    )
    ended = time.perf_counter()
    assert batch.metrics.succeeded == cases, batch.failures[:3]
    steady = ended - first[0]
    return {
        "run": name,
        "cases": cases,
        "workers": 0 if ray is None else ray.workers,
        "wall_s": round(ended - began, 3),
        "cases_per_s": round(cases / (ended - began), 1),
        "first_result_s": round(first[0] - began, 3),
        "steady_cases_per_s": round((cases - 1) / steady, 1),
        "ms_per_case": round(steady * 1000 / (cases - 1), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="200 cases, for the tests")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    cases = 200 if args.smoke else args.cases

    import ray

    began = time.perf_counter()
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
    cluster_s = time.perf_counter() - began
    try:
        rows = trio.run(_all, cases, args.concurrency, args.workers)
    finally:
        if started:
            ray.shutdown()
    local, one = rows[0], rows[1]
    overhead = round(one["ms_per_case"] - local["ms_per_case"], 3)
    summary = {
        "run": "summary",
        "cluster_start_s": round(cluster_s, 3) if started else None,
        "ray_overhead_ms_per_case": overhead,
    }
    for row in [*rows, summary]:
        print(json.dumps(row))
    print()
    print(f"{'run':<12}{'cases/s':>10}{'first s':>10}{'steady/s':>10}{'ms/case':>10}")
    for row in rows:
        print(
            f"{row['run']:<12}{row['cases_per_s']:>10}{row['first_result_s']:>10}"
            f"{row['steady_cases_per_s']:>10}{row['ms_per_case']:>10}"
        )
    print(f"Ray overhead per case (1 worker vs local): {overhead} ms")
    return 0


async def _all(cases: int, concurrency: int, workers: int) -> list[dict[str, Any]]:
    return [
        await measure("local", cases, concurrency, None),
        await measure("ray-1", cases, concurrency, RayOptions(workers=1, chunk_size=32)),
        await measure(
            f"ray-{workers}", cases, concurrency, RayOptions(workers=workers, chunk_size=32)
        ),
    ]


if __name__ == "__main__":
    sys.exit(main())
