"""What one signal and one activation cost, piece by piece: ``python benchmarks/signal_costs.py``.

Two parts, printed as two tables (``--markdown`` for README.md):

1. **Unit costs** on this machine: each primitive an activation's path uses (a trio task hop,
   a checkpoint, channel operations, ``start_soon``, a cancel scope, an ``Event``, ids and
   timestamps, ``Signal``/``SignalSource`` construction, a routing lookup, attrs objects ...),
   timed in a tight loop (best of 5 loops, CPU time, µs per operation).
2. **Counts per activation** (per run for many-runs) of the same primitives in one profiled
   run of the engine's fanout, chain and many-runs workloads (``benchmarks/fanout.py`` etc.,
   framework side, N = M = ``--size``) and of the bare-trio floor
   (``benchmarks/peers/floor.py``), from cProfile's call counts, with count x unit cost.

The product is an estimate (cProfile counts calls exactly, but a primitive's cost in context
differs from its cost in a loop), used to say where the per-activation time goes and what a
change to the signal path would save. It reads the engine's internals and changes nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import pstats
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import attrs
import trio
import trio.lowlevel

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))

from openharness_actors._core._quiescence import WorkCounter  # noqa: E402
from openharness_actors._core._routing import RoutingTable  # noqa: E402
from openharness_actors._core._signal import Signal, SignalSource, new_signal_id  # noqa: E402
from openharness_actors._core._usage import Usage  # noqa: E402
from openharness_actors._define._agent import AgentContext  # noqa: E402
from openharness_actors._define._pattern import compile_pattern  # noqa: E402
from openharness_actors.harness.protocol import HarnessRequest  # noqa: E402

LOOPS = 20_000


def _best(fn: Callable[[], float], tries: int = 5) -> float:
    return min(fn() for _ in range(tries))


def _sync(op: Callable[[], Any], loops: int = LOOPS) -> float:
    """µs per call of ``op`` (loop overhead subtracted)."""

    def once() -> float:
        start = time.process_time()
        for _ in range(loops):
            op()
        used = time.process_time() - start
        start = time.process_time()
        for _ in range(loops):
            pass
        return (used - (time.process_time() - start)) / loops * 1e6

    return _best(once)


def _async(body: Callable[[int], Any], loops: int = LOOPS) -> float:
    """µs per loop iteration of ``await body(loops)`` in a fresh trio.run."""

    def once() -> float:
        start = time.process_time()
        trio.run(body, loops)
        return (time.process_time() - start) / loops * 1e6

    return _best(once)


async def _checkpoints(n: int) -> None:
    for _ in range(n):
        await trio.lowlevel.checkpoint()


async def _checkpoint_if_cancelled(n: int) -> None:
    for _ in range(n):
        await trio.lowlevel.checkpoint_if_cancelled()


async def _hops(n: int) -> None:
    """Two tasks waking each other: 2 n hops (reschedule + scheduler step + resume)."""
    me = trio.lowlevel.current_task()
    other: list[trio.lowlevel.Task] = []

    def abort(_: Any) -> trio.lowlevel.Abort:
        return trio.lowlevel.Abort.FAILED

    async def partner() -> None:
        other.append(trio.lowlevel.current_task())
        for _ in range(n):
            await trio.lowlevel.wait_task_rescheduled(abort)
            trio.lowlevel.reschedule(me)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(partner)
        while not other:  # trio runs a batch in random order: wait until the partner parks
            await trio.lowlevel.checkpoint()
        await trio.lowlevel.checkpoint()
        for _ in range(n):
            trio.lowlevel.reschedule(other[0])
            await trio.lowlevel.wait_task_rescheduled(abort)


async def _hops_half(n: int) -> None:
    await _hops(n // 2)


async def _channel_buffered(n: int) -> None:
    send, receive = trio.open_memory_channel[int](1)
    for i in range(n):
        send.send_nowait(i)
        receive.receive_nowait()


async def _channel_handoff(n: int) -> None:
    """One message to a task parked in receive(): send_nowait + the receiver's wake-up."""
    send, receive = trio.open_memory_channel[int](0)
    back_send, back_receive = trio.open_memory_channel[int](0)

    async def echo() -> None:
        for _ in range(n // 2):
            await back_send.send(await receive.receive())

    async with trio.open_nursery() as nursery:
        nursery.start_soon(echo)
        for i in range(n // 2):
            await send.send(i)
            await back_receive.receive()


async def _spawns(n: int) -> None:
    async def noop() -> None:
        pass

    async with trio.open_nursery() as nursery:
        for _ in range(n):
            nursery.start_soon(noop)


async def _cancel_scopes(n: int) -> None:
    for _ in range(n):
        with trio.CancelScope():  # noqa: ASYNC100 (the cost of the scope itself)
            pass


async def _events(n: int) -> None:
    for _ in range(n):
        event = trio.Event()
        event.set()
        await event.wait()


async def _current_time(n: int) -> None:
    for _ in range(n):
        trio.current_time()


def unit_costs() -> dict[str, float]:
    """µs per operation of every primitive (see the module docstring)."""
    source = SignalSource("agent", "scripted", "sig_parent")
    table = RoutingTable([[compile_pattern("x:done")]], [])
    table.route("x:done")
    log: list[Any] = []
    counter = WorkCounter()
    usage = Usage(input_tokens=1, output_tokens=1)

    def work() -> None:
        counter.add()
        counter.done()

    def clear_log() -> None:
        log.append(1)
        if len(log) > 1000:
            log.clear()

    signal = Signal("sig_1", "x:done", {}, 0.0, 0, "run_1", source)
    return {
        "task hop (reschedule + scheduler step + resume)": _async(_hops_half),
        "checkpoint (a scheduler round, one task)": _async(_checkpoints),
        "checkpoint_if_cancelled": _async(_checkpoint_if_cancelled),
        "channel handoff to a parked receiver (send + its wake-up)": _async(_channel_handoff),
        "channel send_nowait + receive_nowait, buffered": _async(_channel_buffered),
        "start_soon + run + exit of an empty task": _async(_spawns),
        "CancelScope enter + exit": _async(_cancel_scopes),
        "trio.Event() + set + wait": _async(_events),
        "trio.current_time()": _async(_current_time),
        "new_signal_id()": _sync(new_signal_id),
        "time.time()": _sync(time.time),
        "Signal(...) (frozen attrs, 7 fields)": _sync(
            lambda: Signal("sig_1", "x:done", {}, 0.0, 0, "run_1", source)
        ),
        "SignalSource(...) (frozen attrs)": _sync(lambda: SignalSource("a", "scripted", "p")),
        "tuple of 7 (what the floor would use)": _sync(
            lambda: ("sig_1", "x:done", None, 0.0, 0, "run_1", source)
        ),
        "payload dict, 2 keys": _sync(lambda: {"agent": "a", "trigger": "x:done"}),
        "RoutingTable.route(name), cached": _sync(lambda: table.route("x:done")),
        "log append": _sync(clear_log),
        "WorkCounter add + done": _sync(work),
        "AgentContext(...)": _sync(lambda: AgentContext({}, signal, {}, "a", "run_1")),
        "HarnessRequest(...)": _sync(
            lambda: HarnessRequest(agent="a", prompt="go", run_id="run_1", activation_id="s")
        ),
        "attrs.asdict(Usage)": _sync(lambda: attrs.asdict(usage)),
        "Usage + Usage": _sync(lambda: usage + usage),
    }


# -- counts per activation ---------------------------------------------------------------

COUNTED: dict[str, tuple[str, Callable[[str], bool]]] = {
    "task hop (reschedule + scheduler step + resume)": (
        "trio reschedule()",
        lambda k: k.endswith("_core/_run.py:reschedule"),
    ),
    "channel send_nowait + receive_nowait, buffered": (
        "channel send_nowait/receive_nowait",
        lambda k: "_channel.py:send_nowait" in k or "_channel.py:receive_nowait" in k,
    ),
    "checkpoint_if_cancelled": (
        "checkpoint_if_cancelled",
        lambda k: k.endswith(":checkpoint_if_cancelled"),
    ),
    "start_soon + run + exit of an empty task": (
        "spawn_impl (start_soon)",
        lambda k: k.endswith(":spawn_impl"),
    ),
    "CancelScope enter + exit": (
        "CancelScope.__enter__",
        lambda k: k.endswith("trio/_core/_run.py:__enter__"),
    ),
    "trio.Event() + set + wait": ("Event.set", lambda k: "_sync.py:set" in k),
    "trio.current_time()": (
        "trio.current_time",
        lambda k: k.endswith("_generated_run.py:current_time"),
    ),
    "new_signal_id()": ("new_signal_id", lambda k: k.endswith(":new_signal_id")),
    "time.time()": ("time.time", lambda k: "built-in method time.time" in k),
    "Signal(...) (frozen attrs, 7 fields)": (
        "Signal.__init__",
        lambda k: "openharness_actors._core._signal.Signal>:" in k,
    ),
    "SignalSource(...) (frozen attrs)": (
        "SignalSource.__init__",
        lambda k: "openharness_actors._core._signal.SignalSource>:" in k,
    ),
    "RoutingTable.route(name), cached": ("RoutingTable.route", lambda k: "_routing.py:route" in k),
    "WorkCounter add + done": ("WorkCounter.done", lambda k: "_quiescence.py:done" in k),
    "AgentContext(...)": ("AgentContext.__init__", lambda k: "_agent.AgentContext>:" in k),
    "HarnessRequest(...)": (
        "HarnessRequest.__init__",
        lambda k: "protocol.HarnessRequest>:" in k,
    ),
    "attrs.asdict(Usage)": ("attrs.asdict", lambda k: k.endswith("_funcs.py:asdict")),
}


def _profile(run: Callable[[], Any]) -> dict[str, int]:
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    counts: dict[str, int] = {}
    for (filename, _, name), (primitive, _calls, _, _, _) in raw.items():
        key = f"{filename}:{name}"
        for label, (_, matches) in COUNTED.items():
            if matches(key):
                counts[label] = counts.get(label, 0) + primitive
    return counts


def counts_per_unit(size: int) -> dict[str, dict[str, float]]:
    """``{f"{impl} {workload}": {primitive: calls per unit}}`` for engine and floor."""
    floor = importlib.import_module("floor")
    out: dict[str, dict[str, float]] = {}
    for workload, module in (("fanout", "fanout"), ("chain", "chain"), ("many-runs", "many_runs")):
        runner = importlib.import_module(module).CASE.framework(size)
        engine = _profile(partial(trio.run, runner))
        out[f"engine {workload}"] = {k: v / size for k, v in engine.items()}
        bare = _profile(floor.BUILDS[workload](size))
        out[f"floor {workload}"] = {k: v / size for k, v in bare.items()}
    return out


def _table(headers: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--no-counts", action="store_true")
    args = parser.parse_args()
    costs = unit_costs()
    print(_table(["primitive", "µs"], [[k, f"{v:.2f}"] for k, v in costs.items()], args.markdown))
    if args.no_counts:
        return
    counts = counts_per_unit(args.size)
    columns = list(counts)
    rows = []
    totals = dict.fromkeys(columns, 0.0)
    for label in COUNTED:
        cells = [label, f"{costs[label]:.2f}"]
        for column in columns:
            n = counts[column].get(label, 0.0)
            totals[column] += n * costs[label]
            cells.append(f"{n:.1f} = {n * costs[label]:.1f}" if n else "-")
        rows.append(cells)
    rows.append(["sum of the above", "", *(f"{totals[c]:.1f}" for c in columns)])
    print()
    print(_table(["primitive", "µs each", *columns], rows, args.markdown))


if __name__ == "__main__":
    main()
