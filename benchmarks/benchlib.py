"""Shared machinery of the benchmarks: the bare-trio baseline, timing, RSS and output.

Every case compares two implementations of the same workload, run alternately in the same
process: the framework (``openharness_actors`` with the zero-latency ``ScriptedHarness`` and the
full trace recorded) and :class:`BareRun`, a hand-written actor system on bare trio. Results
are reported as ratios ``framework / baseline``, which survive noisy, shared machines far better
than absolute times.

The baseline (:class:`BareRun`) is what a minimal hand-written actor version of the same
workflow needs, and no more:

* tasks: one broker task, one state-actor task, one task per agent and one task per activation
  (or ``max_concurrency`` workers fed from a deque), all in the run's one nursery;
* channels: a bounded broker inbox (256), a bounded mailbox per agent (64), an unbounded
  state-actor channel; a commit waits for its answer on a ``trio.Event``;
* signals: a plain tuple ``(id, name, payload, timestamp, seq, run_id, agent, parent)`` with an
  id from a counter and a ``time.time()`` timestamp, appended to a list (the trace) by the broker
  before it is delivered, and routed by one dict lookup (exact names only);
* per activation the same signals as the framework's trace: ``agent:activated``,
  ``harness:start``, ``text:delta``, ``text:complete``, ``harness:end`` (when the agent has a
  "harness"), ``state:<key>:changed`` (published by the state actor), ``agent:completed`` and
  the declared emits, each with a small payload dict; ``workflow:start`` and ``workflow:end``
  once per run;
* state: a plain ``dict`` mutated in place by the state actor (the framework keeps immutable
  snapshots instead); reducers return ``(key, value)``;
* exact quiescence with the same outstanding-work counter as the engine (no sleeping).

It has no validation, no guards, no templates, no error handling, no cancellation scopes per
activation, no metrics and no structured logging: that is the framework's overhead we measure.

Timing: each measurement is one fresh ``trio.run``; the workload is built before the clock
starts (agent definitions), and the run itself (run setup, routing tables, every task, the
trace, teardown) is timed. The time is the process's CPU time (``time.process_time``; trio is
single-threaded), which other processes on a shared machine disturb far less than wall time;
wall time is recorded too. ``gc.collect()`` runs before each measurement and the collector stays
enabled (its cost is part of the engine's cost). Each size is measured ``repeat`` times per
implementation, alternating baseline and framework; ``ratio`` is the median of the per-pair
ratios, ``ratio_best`` the ratio of the best times; µs per unit and signals/s use the medians.

Peak RSS (``VmHWM``) is measured in fresh child processes (``--probe``), one per
implementation and size, because the peak only ever grows within a process.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import trio
import trio.testing

__all__ = [
    "BareAgent",
    "BareRun",
    "BareSignal",
    "Case",
    "Outcome",
    "current_rss_kb",
    "format_table",
    "main",
    "peak_rss_kb",
]

BareSignal = tuple[str, str, dict[str, Any], float, int, str, str | None, str | None]
"""``(id, name, payload, timestamp, seq, run_id, agent, parent)``."""

Compute = Callable[[dict[str, Any], BareSignal], Any]
"""What a bare agent's "harness" returns, from the state dict and the trigger."""

BareReducer = Callable[[dict[str, Any], BareSignal], tuple[str, Any]]
"""A bare reducer: the ``(key, new_value)`` a signal produces."""

Runner = Callable[[], Awaitable["Outcome"]]
"""One prepared run of a workload; timed from call to return."""


# -- the bare-trio baseline ---------------------------------------------------------------


@dataclass(frozen=True)
class BareAgent:
    """One agent of the baseline; see the module docstring."""

    name: str
    activate_on: tuple[str, ...]
    compute: Compute
    emits: tuple[str, ...] = ()
    updates: str | None = None
    harness: bool = True
    delay: float = 0.0
    max_concurrency: int | None = None
    wait: Callable[[], Awaitable[None]] | None = None
    """Awaited where the harness call would be (the many-runs memory probe parks runs here)."""


_bare_ids = itertools.count(1)


class BareRun:
    """A hand-written actor run on bare trio (tasks + memory channels + a dict)."""

    eager_publish: ClassVar[bool] = False
    """Publish with ``send_nowait`` first (``await send`` only when the inbox is full), so a
    publish is not a scheduling point; off by default (``--eager-baseline`` turns it on)."""

    def __init__(
        self,
        agents: Sequence[BareAgent],
        state: dict[str, Any],
        reducers: Mapping[str, BareReducer] | None = None,
        *,
        inbox_size: int = 256,
        mailbox_size: int = 64,
        producer: Callable[[BareRun], Awaitable[None]] | None = None,
    ) -> None:
        self.agents = agents
        self.producer = producer
        self.state = state
        self.reducers = dict(reducers or {})
        self.run_id = f"run_{next(_bare_ids):x}"
        self.log: list[BareSignal] = []
        self.activations = 0
        self._inbox_size = inbox_size
        self._mailbox_size = mailbox_size
        self._pending = 0
        self._idle = trio.Event()

    # quiescence: the same outstanding-work count as the engine
    def _add(self) -> None:
        self._pending += 1

    def _done(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    async def run(self) -> BareRun:
        """Run to quiescence; the trace is in :attr:`log`, the final state in :attr:`state`."""
        routes: dict[str, list[int]] = {}
        for index, agent in enumerate(self.agents):
            for name in agent.activate_on:
                routes.setdefault(name, []).append(index)
        self._routes = routes
        self._inbox_send, inbox_receive = trio.open_memory_channel[
            tuple[str, str, dict[str, Any], str | None, str | None]
        ](self._inbox_size)
        channels = [trio.open_memory_channel[BareSignal](self._mailbox_size) for _ in self.agents]
        self._mailboxes = [send for send, _ in channels]
        self._state_send, state_receive = trio.open_memory_channel[Any](math.inf)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._broker, inbox_receive)
            nursery.start_soon(self._state_actor, state_receive)
            for agent, (_, receive) in zip(self.agents, channels, strict=True):
                nursery.start_soon(self._agent, agent, receive)
            if self.producer is not None:
                self._add()
                nursery.start_soon(self._produce, self.producer)
            self._start_id = await self.publish(
                "workflow:start",
                {"agents": [a.name for a in self.agents], "state": dict(self.state)},
                None,
                None,
            )
            await self._idle.wait()
            nursery.cancel_scope.cancel()
        self._log(
            (
                f"sig_{next(_bare_ids):x}",
                "workflow:end",
                {"activations": self.activations, "state": dict(self.state)},
                None,
                self._start_id,
            )
        )
        return self

    async def _produce(self, producer: Callable[[BareRun], Awaitable[None]]) -> None:
        try:
            await producer(self)
        finally:
            self._done()

    async def publish(
        self, name: str, payload: dict[str, Any], agent: str | None, parent: str | None
    ) -> str:
        signal_id = f"sig_{next(_bare_ids):x}"
        self._add()
        draft = (signal_id, name, payload, agent, parent)
        if self.eager_publish:
            try:
                self._inbox_send.send_nowait(draft)
            except trio.WouldBlock:
                await self._inbox_send.send(draft)
        else:
            await self._inbox_send.send(draft)
        return signal_id

    def _log(self, draft: tuple[str, str, dict[str, Any], str | None, str | None]) -> BareSignal:
        signal_id, name, payload, agent, parent = draft
        signal = (signal_id, name, payload, time.time(), len(self.log), self.run_id, agent, parent)
        self.log.append(signal)
        return signal

    async def _broker(self, receive: trio.MemoryReceiveChannel[Any]) -> None:
        routes = self._routes
        mailboxes = self._mailboxes
        reducers = self.reducers
        async for draft in receive:
            signal = self._log(draft)
            name = signal[1]
            for index in routes.get(name, ()):
                self._add()
                mailbox = mailboxes[index]
                try:
                    mailbox.send_nowait(signal)
                except trio.WouldBlock:
                    await mailbox.send(signal)
            reducer = reducers.get(name)
            if reducer is not None:
                self._add()
                self._state_send.send_nowait((None, signal, reducer))
            self._done()

    async def _state_actor(self, receive: trio.MemoryReceiveChannel[Any]) -> None:
        state = self.state
        async for message in receive:
            if message[0] is None:  # a reducer
                _, signal, reducer = message
                key, value = reducer(state, signal)
                await self._set(key, value, signal[6], signal[0])
                self._done()
            else:  # a commit
                key, value, agent, parent, answer = message
                await self._set(key, value, agent, parent)
                answer.set()

    async def _set(self, key: str, value: Any, agent: str | None, parent: str) -> None:
        old = self.state.get(key)
        self.state[key] = value
        if old != value:
            await self.publish(
                f"state:{key}:changed",
                {"key": key, "old_value": old, "new_value": value, "agent": agent},
                agent,
                parent,
            )

    async def _agent(
        self, agent: BareAgent, receive: trio.MemoryReceiveChannel[BareSignal]
    ) -> None:
        # Activations run in the run's nursery: a minimal version needs no nursery per agent.
        nursery = self._nursery
        limit = agent.max_concurrency
        if limit is None:
            async for trigger in receive:
                nursery.start_soon(self._activate, agent, trigger)
            return
        queue: deque[BareSignal] = deque()
        workers = 0

        async def worker() -> None:
            nonlocal workers
            try:
                while queue:
                    await self._activate(agent, queue.popleft())
            finally:
                workers -= 1

        async for trigger in receive:
            queue.append(trigger)
            while workers < limit and queue:
                workers += 1
                nursery.start_soon(worker)

    async def _activate(self, agent: BareAgent, trigger: BareSignal) -> None:
        try:
            name = agent.name
            self.activations += 1
            activation = await self.publish(
                "agent:activated", {"agent": name, "trigger": trigger[1]}, name, trigger[0]
            )
            if agent.harness:
                await self.publish(
                    "harness:start", {"agent": name, "model": None}, name, activation
                )
            if agent.delay:
                await trio.sleep(agent.delay)
            if agent.wait is not None:
                await agent.wait()
            value = agent.compute(self.state, trigger)
            if agent.harness:
                await self.publish("text:delta", {"content": value}, name, activation)
                await self.publish("text:complete", {"content": value}, name, activation)
                await self.publish(
                    "harness:end", {"output": value, "duration_ms": 0.0}, name, activation
                )
            if agent.updates is not None:
                answer = trio.Event()
                self._state_send.send_nowait((agent.updates, value, name, activation, answer))
                await answer.wait()
            await self.publish(
                "agent:completed", {"agent": name, "output": value}, name, activation
            )
            for emit in agent.emits:
                await self.publish(emit, {"agent": name, "output": value}, name, activation)
        finally:
            self._done()


# -- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one run did: ``units`` (activations or runs) and ``signals`` in the trace(s)."""

    units: int
    signals: int
    checks: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A benchmark case: a workload per size, built for each implementation.

    ``baseline(size)`` and ``framework(size)`` build the workload (untimed) and return a
    :data:`Runner`; the runner does the timed work and returns the verified :class:`Outcome`
    (it raises ``AssertionError`` when anything was lost). ``extra_probe(impl, size)``, when
    given, runs in a fresh child process and returns extra figures (many-runs: memory per
    concurrent run).
    """

    name: str
    unit: str
    sizes: tuple[int, ...]
    smoke_sizes: tuple[int, ...]
    baseline: Callable[[int], Runner]
    framework: Callable[[int], Runner]
    extra_probe: Callable[[str, int], Mapping[str, Any]] | None = None
    description: str = ""
    mock_clock: bool = False
    """Run under ``trio.testing.MockClock(autojump_threshold=0)``: sleeps cost no wall time and
    the clock only moves when every task is blocked."""


IMPLS = ("baseline", "framework")
PAIR_BUDGET_S = 60.0
"""Repetitions of a size are capped so that they take about this long (at least 3 pairs)."""


def peak_rss_kb() -> int:
    """This process's peak resident set size so far, in KiB (``VmHWM``).

    Not ``ru_maxrss``: Linux folds the parent's RSS at ``fork`` into the child's
    ``ru_maxrss`` across ``exec``, so a probe started by a big measuring process would
    report the parent's size. ``VmHWM`` belongs to the child's own address space.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_rss_kb() -> int:
    """This process's resident set size now, in KiB (from ``/proc/self/statm``)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Timing:
    """One timed run: CPU seconds of this process (what ratios use) and wall seconds."""

    cpu: float
    wall: float


def _time_once(
    build: Callable[[int], Runner], size: int, mock_clock: bool = False
) -> tuple[Timing, Outcome]:
    runner = build(size)
    gc.collect()

    async def timed() -> tuple[Timing, Outcome]:
        wall = time.perf_counter()
        cpu = time.process_time()
        outcome = await runner()
        return Timing(time.process_time() - cpu, time.perf_counter() - wall), outcome

    clock = trio.testing.MockClock(autojump_threshold=0) if mock_clock else None
    return trio.run(timed, clock=clock)


def _figures(case: Case, timings: list[Timing], outcome: Outcome) -> dict[str, Any]:
    cpu = [t.cpu for t in timings]
    best = min(cpu)
    median = statistics.median(cpu)
    return {
        "best_s": round(best, 6),
        "median_s": round(median, 6),
        "cpu_s": [round(t, 6) for t in cpu],
        "wall_s": [round(t.wall, 6) for t in timings],
        f"us_per_{case.unit}": round(median / outcome.units * 1e6, 2),
        "units": outcome.units,
        "signals": outcome.signals,
        "signals_per_s": round(outcome.signals / median),
    }


def _probe_child(script: str, mode: str, impl: str, size: int) -> dict[str, Any]:
    flags = ["--eager-baseline"] if BareRun.eager_publish else []
    completed = subprocess.run(
        [sys.executable, script, mode, impl, "--size", str(size), *flags],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def _probe(case: Case, impl: str, size: int) -> None:
    """Child process: one run of ``impl``; print the peak RSS it reached."""
    build = case.baseline if impl == "baseline" else case.framework
    before = current_rss_kb()
    _time_once(build, size, case.mock_clock)
    print(json.dumps({"peak_rss_kb": peak_rss_kb(), "rss_before_kb": before}))


def _probe_extra(case: Case, impl: str, size: int) -> None:
    """Child process: the case's extra probe (memory per concurrent run, ...)."""
    assert case.extra_probe is not None
    print(json.dumps(dict(case.extra_probe(impl, size))))


def environment() -> dict[str, Any]:
    """Versions and machine, stamped on every JSON line."""
    import openharness_actors

    return {
        "python": platform.python_version(),
        "trio": trio.__version__,
        "openharness_actors": openharness_actors.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def measure(
    case: Case, script: str, size: int, repeat: int, probes: bool, smoke: bool
) -> dict[str, Any]:
    """Measure one size of ``case``: alternating timed runs, then RSS probes."""
    times: dict[str, list[Timing]] = {impl: [] for impl in IMPLS}
    outcomes: dict[str, Outcome] = {}
    done = 0
    while done < repeat:
        for impl in IMPLS:
            build = case.baseline if impl == "baseline" else case.framework
            timing, outcome = _time_once(build, size, case.mock_clock)
            times[impl].append(timing)
            outcomes[impl] = outcome
        done += 1
        if done == 1:  # keep big sizes within about a minute, but never under 3 repetitions
            pair = times["baseline"][0].wall + times["framework"][0].wall
            repeat = min(repeat, max(3, int(PAIR_BUDGET_S // pair)))
    record: dict[str, Any] = {"case": case.name, "n": size, "unit": case.unit, "smoke": smoke}
    for impl in IMPLS:
        record[impl] = _figures(case, times[impl], outcomes[impl])
        record[impl]["checks"] = dict(outcomes[impl].checks)
    pairs = zip(times["framework"], times["baseline"], strict=True)
    record["ratio"] = round(statistics.median(f.cpu / b.cpu for f, b in pairs), 2)
    record["ratio_best"] = round(record["framework"]["best_s"] / record["baseline"]["best_s"], 2)
    if probes:
        for impl in IMPLS:
            record[impl].update(_probe_child(script, "--probe", impl, size))
            if case.extra_probe is not None:
                record[impl].update(_probe_child(script, "--probe-extra", impl, size))
    record["env"] = environment()
    return record


# -- output ---------------------------------------------------------------------------------

_COLUMNS = (
    ("case", 11),
    ("n", 6),
    ("base µs/u", 10),
    ("fw µs/u", 10),
    ("ratio", 6),
    ("best", 6),
    ("base sig/s", 11),
    ("fw sig/s", 11),
    ("base RSS MB", 11),
    ("fw RSS MB", 10),
    ("extra", 0),
)


def _row(record: Mapping[str, Any]) -> list[str]:
    unit = record.get("unit", "unit")
    base = record.get("baseline", {})
    fw = record.get("framework", {})
    key = f"us_per_{unit}"

    def mb(figures: Mapping[str, Any]) -> str:
        kb = figures.get("peak_rss_kb")
        return "-" if kb is None else f"{kb / 1024:.0f}"

    extra = []
    for label, impl in (("base", base), ("fw", fw)):
        if "kb_per_run" in impl:
            extra.append(f"{label} {impl['kb_per_run']:.1f} KB/run")
    return [
        str(record.get("case", "?")),
        str(record.get("n", "")),
        f"{base.get(key, float('nan')):.1f}",
        f"{fw.get(key, float('nan')):.1f}",
        f"{record.get('ratio', float('nan')):.2f}",
        f"{record.get('ratio_best', float('nan')):.2f}",
        f"{base.get('signals_per_s', 0):,}",
        f"{fw.get('signals_per_s', 0):,}",
        mb(base),
        mb(fw),
        ", ".join(extra) + (f" (per {unit})" if unit != "activation" else ""),
    ]


def format_table(records: Sequence[Mapping[str, Any]], markdown: bool = False) -> str:
    """A readable table of JSON records (records without the usual shape are skipped)."""
    rows = [_row(r) for r in records if "baseline" in r and "framework" in r]
    headers = [name for name, _ in _COLUMNS]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(w, len(h), *(len(r[i]) for r in rows)) for i, (h, w) in enumerate(_COLUMNS)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)


# -- command line ---------------------------------------------------------------------------


def parse_sizes(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part)


def main(case: Case, argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Command line of a case script: measure every size, print JSON lines and a table."""
    parser = argparse.ArgumentParser(description=case.description or case.name)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repetition")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per implementation")
    parser.add_argument("--sizes", type=parse_sizes, help="comma-separated sizes")
    parser.add_argument("--no-probes", action="store_true", help="skip the RSS child processes")
    parser.add_argument("--json-only", action="store_true", help="no table")
    parser.add_argument(
        "--eager-baseline",
        action="store_true",
        help="the baseline publishes with send_nowait first (sensitivity check)",
    )
    parser.add_argument("--probe", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--probe-extra", choices=IMPLS, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    script = os.path.abspath(sys.argv[0])
    BareRun.eager_publish = args.eager_baseline
    if args.probe:
        _probe(case, args.probe, args.size)
        return []
    if args.probe_extra:
        _probe_extra(case, args.probe_extra, args.size)
        return []
    sizes = args.sizes or (case.smoke_sizes if args.smoke else case.sizes)
    repeat = 1 if args.smoke else max(1, args.repeat)
    records = []
    for size in sizes:
        record = measure(case, script, size, repeat, not args.no_probes, args.smoke)
        print(json.dumps(record), flush=True)
        records.append(record)
    if not args.json_only:
        print(format_table(records))
    return records
