"""Where the time goes: ``python benchmarks/hotspots.py CASE SIZE [--impl framework|baseline]``.

Runs one case once under cProfile with the garbage collector off and sorts the *self* time of
every function into categories (trio's scheduler and channels, cancel scopes, task spawns,
signal construction, the broker, routing, the activation path, the state actor, JSON
conversion, attrs, the harness, templates, ...). Shares are scaled to the case's CPU time
measured without the profiler, so the µs per unit are estimates (cProfile inflates call-heavy
code). A second, unprofiled run with the collector on measures the garbage collector's share
with ``gc.callbacks``. ``--top N`` also lists the N functions with the most self time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import pstats
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import trio
import trio.testing
from benchlib import Case, Outcome, Runner

# First match wins: (category, predicate over "file:function").
CATEGORIES: list[tuple[str, Callable[[str], bool]]] = [
    (
        "cancel scopes",
        lambda k: (
            "CancelScope" in k
            or "_run.py:__enter__" in k
            or "_run.py:_close" in k
            or "cancel_status" in k.lower()
            or "recalculate" in k
            or "_might_change_registered_deadline" in k
            or "contextlib" in k
            or "CancelStatus" in k
        ),
    ),
    (
        "task spawns/exits",
        lambda k: (
            "spawn_impl" in k
            or "task_exited" in k
            or "start_soon" in k
            or "trio._core._run.Task" in k
            or "_child_finished" in k
            or "Nursery" in k
            or "nursery" in k.lower()
        ),
    ),
    (
        "trio scheduler+channels",
        lambda k: (
            "trio" in k
            or "outcome" in k
            or "sortedcontainers" in k
            or "_contextvars" in k
            or "epoll" in k.lower()
        ),
    ),
    (
        "signal construction (Signal, ids, timestamps, sources)",
        lambda k: "_signal.py" in k or "openharness_actors._core._signal" in k or "time.time" in k,
    ),
    (
        "broker (publish, log, route)",
        lambda k: (
            "_broker.py" in k or "_routing.py" in k or "_log.py" in k or "_quiescence.py" in k
        ),
    ),
    (
        "state actor + state snapshots",
        lambda k: "_state_actor.py" in k or "_state.py" in k or "immutables" in k,
    ),
    (
        "JSON conversion (to_jsonable, cattrs)",
        lambda k: "_json.py" in k or "cattrs" in k or "_output.py" in k,
    ),
    (
        "attrs objects (contexts, requests, usage, evolve/asdict)",
        lambda k: "attr" in k or "_usage.py" in k or "_agent.py" in k,
    ),
    ("harness (scripted) + protocol", lambda k: "/harness/" in k),
    ("templates", lambda k: "_template.py" in k),
    ("activation path (agent actor)", lambda k: "_agent_actor.py" in k),
    (
        "run setup/teardown, engine, workflow",
        lambda k: (
            "_run.py" in k
            or "_engine.py" in k
            or "_workflow.py" in k
            or "_nursery.py" in k
            or "_result.py" in k
            or "structlog" in k
            or "_logging.py" in k
        ),
    ),
    ("benchmark code (baseline actors, checks)", lambda k: "benchmarks" in k),
]


def _key(func: tuple[str, int, str]) -> str:
    filename, _, name = func
    return f"{filename}:{name}"


def categorize(stats: pstats.Stats) -> Counter[str]:
    """Self time per category."""
    totals: Counter[str] = Counter()
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for func, (_, _, tottime, _, _) in raw.items():
        key = _key(func)
        for name, matches in CATEGORIES:
            if matches(key):
                totals[name] += tottime
                break
        else:
            totals["other (builtins, stdlib)"] += tottime
    return totals


def _run(build: Callable[[int], Runner], size: int, case: Case) -> Outcome:
    runner = build(size)
    clock = trio.testing.MockClock(autojump_threshold=0) if case.mock_clock else None
    outcome: Outcome = trio.run(runner, clock=clock)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case", help="fanout, chain, many_runs, contention or burst")
    parser.add_argument("size", type=int)
    parser.add_argument("--impl", choices=("framework", "baseline"), default="framework")
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    case: Case = importlib.import_module(args.case).CASE
    build = case.framework if args.impl == "framework" else case.baseline

    gc.collect()
    gc_time = 0.0
    gc_started = 0.0

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        nonlocal gc_time, gc_started
        if phase == "start":
            gc_started = time.perf_counter()
        else:
            gc_time += time.perf_counter() - gc_started

    gc.callbacks.append(on_gc)
    cpu = time.process_time()
    outcome = _run(build, args.size, case)
    cpu_with_gc = time.process_time() - cpu
    gc.callbacks.remove(on_gc)

    gc.collect()
    gc.disable()
    cpu = time.process_time()
    _run(build, args.size, case)
    cpu_without_gc = time.process_time() - cpu
    profiler = cProfile.Profile()
    profiler.enable()
    _run(build, args.size, case)
    profiler.disable()
    gc.enable()

    stats = pstats.Stats(profiler)
    totals = categorize(stats)
    profiled = sum(totals.values())
    per = 1e6 / outcome.units
    print(
        f"{case.name} {args.impl} size={args.size}: {outcome.units} {case.unit}s, "
        f"{outcome.signals} signals"
    )
    print(
        f"CPU {cpu_with_gc * per:.1f} µs/{case.unit} with gc, "
        f"{cpu_without_gc * per:.1f} without; gc pauses {gc_time * per:.1f} µs/{case.unit} "
        f"({gc_time / cpu_with_gc:.0%})"
    )
    print(f"{'category':58} {'share':>6} {'µs/' + case.unit:>12}")
    for name, seconds in totals.most_common():
        share = seconds / profiled
        print(f"{name:58} {share:6.1%} {share * cpu_without_gc * per:12.1f}")
    if args.top:
        print()
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
