"""Shared by every peer script: the workloads' sizes, timing (best of R) and the JSON line.

Peer scripts run in ``benchmarks/peers/.venv`` (made by ``setup.sh``), where
``openharness_actors`` is not installed, so this module imports only the standard library.
Each script defines, per workload, a function ``build(n) -> run`` where ``run()`` does one
whole measured run (in a fresh event loop) and returns ``(units, checks)``; the workload is
built before the clock starts, like ``benchmarks/benchlib.py`` does for our engine.

Timing: process CPU time (``time.process_time``; every framework here runs on one thread) of
each of ``repeat`` runs, ``gc.collect()`` before each, the collector left on; the reported
figure is the best run, in µs per unit (per activation for fanout and chain, per run for
many-runs). Wall times are in the JSON too.

Command line of every script: ``--workload fanout|chain|many-runs`` (repeatable; default all
three), ``--n N`` (default 1000), ``--repeat R`` (default 3). One JSON line per workload:
``{"impl", "version", "workload", "n", "unit", "us_per_unit", "cpu_s", "wall_s", "checks",
"python"}``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["UNITS", "WORKLOADS", "Build", "main", "measure"]

WORKLOADS = ("fanout", "chain", "many-runs")
UNITS = {"fanout": "activation", "chain": "activation", "many-runs": "run"}

Run = Callable[[], tuple[int, Mapping[str, Any]]]
"""One measured run: returns the units it did and what it checked."""
Build = Callable[[int], Run]
"""Builds a workload of size n (untimed) and returns its run."""


def measure(build: Build, n: int, repeat: int) -> dict[str, Any]:
    """Time ``repeat`` fresh runs of ``build(n)``; figures of the best one."""
    cpu: list[float] = []
    wall: list[float] = []
    units = 0
    checks: Mapping[str, Any] = {}
    for _ in range(repeat):
        run = build(n)
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        units, checks = run()
        c1, w1 = time.process_time(), time.perf_counter()
        cpu.append(round(c1 - c0, 6))
        wall.append(round(w1 - w0, 6))
    return {
        "us_per_unit": round(min(cpu) / units * 1e6, 2),
        "cpu_s": cpu,
        "wall_s": wall,
        "units": units,
        "checks": dict(checks),
    }


def main(
    impl: str,
    version: str,
    builds: Mapping[str, Build],
    argv: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Parse the command line, measure the chosen workloads, print one JSON line each."""
    parser = argparse.ArgumentParser(description=f"{impl}: fanout, chain, many-runs")
    parser.add_argument("--workload", action="append", choices=WORKLOADS)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    records = []
    for workload in args.workload or WORKLOADS:
        record = {
            "impl": impl,
            "version": version,
            "workload": workload,
            "n": args.n,
            "unit": UNITS[workload],
            **measure(builds[workload], args.n, max(1, args.repeat)),
            "python": platform.python_version(),
        }
        print(json.dumps(record), flush=True)
        records.append(record)
    return records
