"""Benchmark: a batch of short cases in this process vs on a local Ray cluster.

Runs the same one-agent workflow (scripted harness, no delay, so each case is pure engine
work) over ``--cases`` inputs: the local runner, Ray with one worker, Ray with each count of
``--workers`` (fresh workers started by the batch), and a second batch on a warm pool
(:func:`open_ray_pool`) of the first count, each with ``--concurrency`` cases in flight. For
each it reports:

* ``cases_per_s`` — cases over the whole ``run_batch`` call, worker start-up included;
* ``first_result_s`` — time to the first result (starting the worker processes);
* ``steady_cases_per_s`` — cases per second after the first result;
* ``ms_per_case`` — steady wall time per case.

``ray_overhead_ms_per_case`` is the one-worker steady time per case minus the local time per
case: what shipping cases out and results back costs per case, one process against one.
``warm_start_saved_s`` is the fresh batch's time to its first result minus the warm one's:
the worker start-up a pool saves each batch after its first.
The Ray cluster is started once (``ray.init(num_cpus=--cpus)``), unless this process is
already connected to one, and its start-up is reported apart.

Prints one JSON line per run, then a table. ``--smoke`` runs 200 cases (used by the tests).

    python benchmarks/ray_batch.py [--smoke] [--cases 2000] [--workers 2 4] [--cpus N]
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
from openharness_actors.batch import RayOptions, open_ray_pool


@attrs.frozen
class Case:
    id: int
    text: str
    answer: str | None = None


wf = create_workflow(Case)
solver = wf.agent(prompt="solve {{ text }}", activate_on=["workflow:start"], updates="answer")


async def measure(
    name: str, cases: int, concurrency: int, ray: Any, workers: int
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
        "workers": workers,
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
    parser.add_argument("--workers", type=int, nargs="+", default=[2])
    parser.add_argument("--cpus", type=int, default=None, help="Ray CPUs (most workers)")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    cases = 200 if args.smoke else args.cases

    import ray

    began = time.perf_counter()
    started = not ray.is_initialized()
    if started:
        cpus = args.cpus or max(args.workers)
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    cluster_s = time.perf_counter() - began
    try:
        rows, pool_start_s = trio.run(_all, cases, args.concurrency, args.workers)
    finally:
        if started:
            ray.shutdown()
    local, one = rows[0], rows[1]
    fresh = next(row for row in rows if row["run"] == f"ray-{args.workers[0]}")
    warm = rows[-1]
    overhead = round(one["ms_per_case"] - local["ms_per_case"], 3)
    summary = {
        "run": "summary",
        "cluster_start_s": round(cluster_s, 3) if started else None,
        "ray_overhead_ms_per_case": overhead,
        "pool_start_s": round(pool_start_s, 3),
        "warm_start_saved_s": round(fresh["first_result_s"] - warm["first_result_s"], 3),
    }
    for row in [*rows, summary]:
        print(json.dumps(row))
    print()
    print(f"{'run':<14}{'cases/s':>10}{'first s':>10}{'steady/s':>10}{'ms/case':>10}")
    for row in rows:
        print(
            f"{row['run']:<14}{row['cases_per_s']:>10}{row['first_result_s']:>10}"
            f"{row['steady_cases_per_s']:>10}{row['ms_per_case']:>10}"
        )
    print(f"Ray overhead per case (1 worker vs local): {overhead} ms")
    print(
        f"Warm pool of {args.workers[0]}: started in {summary['pool_start_s']} s once; "
        f"saves {summary['warm_start_saved_s']} s per later batch"
    )
    return 0


async def _all(
    cases: int, concurrency: int, workers: list[int]
) -> tuple[list[dict[str, Any]], float]:
    rows = [
        await measure("local", cases, concurrency, None, 0),
        await measure("ray-1", cases, concurrency, RayOptions(workers=1, chunk_size=32), 1),
    ]
    for count in workers:
        options = RayOptions(workers=count, chunk_size=32)
        rows.append(await measure(f"ray-{count}", cases, concurrency, options, count))
    async with open_ray_pool(RayOptions(workers=workers[0], chunk_size=32)) as pool:
        await measure("warm-up", min(cases, 200), concurrency, pool, workers[0])
        rows.append(await measure(f"ray-{workers[0]}-warm", cases, concurrency, pool, workers[0]))
        pool_start_s = pool.statistics().startup_seconds
    return rows, pool_start_s


if __name__ == "__main__":
    sys.exit(main())
