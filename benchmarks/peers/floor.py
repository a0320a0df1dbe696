"""The floor: the three peer workloads as a minimal actor system on bare trio, no signal log.

What any trio actor version of these workflows needs, and nothing more: one task and one
bounded memory channel (64) per agent, one state-owner task that applies writes to a plain
dict (a write is a message with a ``trio.Event`` the writer waits on, so an agent's emit
happens after its write is applied), messages ``(name, value)`` routed by one dict lookup
straight into the subscribers' channels, exact quiescence by an outstanding-work counter, one
nursery per run. No signal log, no ids, no timestamps, no payload dicts, no validation.

* fanout N: ``start`` reaches N agents; each writes its own key ``k<i>``; done at quiescence.
* chain N: agent ``a<i>`` wakes on ``step:<i-1>`` (``a0`` on ``start``), reads the counter,
  writes counter + 1 and emits ``step:<i>``.
* many-runs M: M runs of ``a -> b -> c`` (each writes its key and emits), all started at once,
  each in a task of its own in one nursery.

``--trace`` adds what the engine's trace needs, done the cheapest way the floor's shape allows:
every signal of the engine's trace for the same workload (``agent:activated``,
``harness:start``, ``text:delta``, ``text:complete``, ``harness:end``,
``state:<key>:changed``, ``agent:completed``, the emits, ``workflow:start``/``end``) is built
as a ``__slots__`` object (counter id, ``time.time()``, seq, run id, agent, parent, payload
dict) and appended to the run's log synchronously in the publishing task: no broker task, no
extra hop. It shows what a complete trace costs when it adds no scheduling (impl
``floor+trace``).

Runs with only trio installed (our venv or the peers' venv): ``python floor.py --n 1000``.
"""

from __future__ import annotations

import itertools
import math
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

import trio
from peerlib import Build, main

Compute = Callable[[dict[str, Any]], Any]
FloorAgent = tuple[str, str, Compute, str, tuple[str, ...]]
"""``(name, activate_on, compute(state) -> value, key written, emits)``."""

Message = tuple[str, Any]

TRACE = "--trace" in sys.argv
_ids = itertools.count(1)


class TraceSignal:
    """One logged signal of ``--trace`` (plain slots, positional init)."""

    __slots__ = ("agent", "id", "name", "parent", "payload", "run_id", "seq", "timestamp")

    def __init__(
        self,
        id: str,
        name: str,
        payload: dict[str, Any],
        seq: int,
        run_id: str,
        agent: str | None,
        parent: str | None,
    ) -> None:
        self.id = id
        self.name = name
        self.payload = payload
        self.timestamp = time.time()
        self.seq = seq
        self.run_id = run_id
        self.agent = agent
        self.parent = parent


class FloorRun:
    """One run: agents' tasks and channels, a state owner, a work counter."""

    def __init__(self, agents: Sequence[FloorAgent], state: dict[str, Any]) -> None:
        self.agents = agents
        self.state = state
        self.activations = 0
        self.log: list[TraceSignal] = []
        self.run_id = f"run_{next(_ids):x}"
        self._pending = 0
        self._idle = trio.Event()

    def _log(
        self, name: str, payload: dict[str, Any], agent: str | None, parent: str | None
    ) -> str:
        log = self.log
        signal_id = f"sig_{next(_ids):x}"
        log.append(TraceSignal(signal_id, name, payload, len(log), self.run_id, agent, parent))
        return signal_id

    def _done(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._idle.set()

    async def _deliver(self, message: Message) -> None:
        for channel in self._routes.get(message[0], ()):
            self._pending += 1
            try:
                channel.send_nowait(message)
            except trio.WouldBlock:
                await channel.send(message)

    async def run(self) -> FloorRun:
        channels = [trio.open_memory_channel[Message](64) for _ in self.agents]
        routes: dict[str, list[trio.MemorySendChannel[Message]]] = {}
        for agent, (send, _) in zip(self.agents, channels, strict=True):
            routes.setdefault(agent[1], []).append(send)
        self._routes = routes
        state_send, state_receive = trio.open_memory_channel[tuple[str, Any, trio.Event]](math.inf)
        self._state_send = state_send
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._owner, state_receive)
            for agent, (_, receive) in zip(self.agents, channels, strict=True):
                nursery.start_soon(self._agent, agent, receive)
            self._pending += 1
            if TRACE:
                self._log("workflow:start", {"state": dict(self.state)}, None, None)
            await self._deliver(("start", None))
            self._done()
            await self._idle.wait()
            nursery.cancel_scope.cancel()
        if TRACE:
            self._log("workflow:end", {"activations": self.activations}, None, None)
        return self

    async def _owner(self, receive: trio.MemoryReceiveChannel[tuple[str, Any, trio.Event]]) -> None:
        state = self.state
        async for key, value, applied in receive:
            old = state.get(key)
            state[key] = value
            if TRACE:
                payload = {"key": key, "old_value": old, "new_value": value}
                self._log(f"state:{key}:changed", payload, None, None)
            applied.set()

    async def _agent(self, agent: FloorAgent, receive: trio.MemoryReceiveChannel[Message]) -> None:
        name, _, compute, key, emits = agent
        log = self._log
        async for message in receive:
            self.activations += 1
            if TRACE:
                act = log("agent:activated", {"agent": name, "trigger": message[0]}, name, None)
                log("harness:start", {"agent": name, "model": None}, name, act)
            value = compute(self.state)
            if TRACE:
                log("text:delta", {"content": value}, name, act)
                log("text:complete", {"content": value}, name, act)
                log("harness:end", {"output": value, "duration_ms": 0.0}, name, act)
            applied = trio.Event()
            self._state_send.send_nowait((key, value, applied))
            await applied.wait()
            if TRACE:
                log("agent:completed", {"agent": name, "output": value}, name, act)
            for emit in emits:
                if TRACE:
                    log(emit, {"agent": name, "output": value}, name, act)
                await self._deliver((emit, value))
            self._done()


def _ok(state: dict[str, Any]) -> str:
    return "ok"


def fanout(n: int) -> Callable[[], tuple[int, dict[str, Any]]]:
    agents = [(f"a{i}", "start", _ok, f"k{i}", ()) for i in range(n)]

    def run() -> tuple[int, dict[str, Any]]:
        floor = trio.run(FloorRun(agents, {f"k{i}": None for i in range(n)}).run)
        written = sum(1 for i in range(n) if floor.state[f"k{i}"] == "ok")
        assert written == n == floor.activations, f"{written} of {n} keys written"
        if TRACE:
            assert len(floor.log) == 7 * n + 2, f"{len(floor.log)} signals"
        return n, {"written": written, "signals": len(floor.log)}

    return run


def _bump(state: dict[str, Any]) -> str:
    return str(int(state["counter"]) + 1)


def chain(n: int) -> Callable[[], tuple[int, dict[str, Any]]]:
    agents = [
        (f"a{i}", "start" if i == 0 else f"step:{i - 1}", _bump, "counter", (f"step:{i}",))
        for i in range(n)
    ]

    def run() -> tuple[int, dict[str, Any]]:
        floor = trio.run(FloorRun(agents, {"counter": "0"}).run)
        assert floor.state["counter"] == str(n), floor.state
        if TRACE:
            assert len(floor.log) == 8 * n + 2, f"{len(floor.log)} signals"
        return n, {"counter": floor.state["counter"], "signals": len(floor.log)}

    return run


def _value(text: str) -> Compute:
    return lambda state: text


THREE: list[FloorAgent] = [
    ("a", "start", _value("A"), "a", ("a:done",)),
    ("b", "a:done", _value("B"), "b", ("b:done",)),
    ("c", "b:done", _value("C"), "c", ("c:done",)),
]


def many_runs(m: int) -> Callable[[], tuple[int, dict[str, Any]]]:
    def run() -> tuple[int, dict[str, Any]]:
        checked = 0
        signals = 0

        async def one() -> None:
            nonlocal checked, signals
            floor = await FloorRun(THREE, {"a": None, "b": None, "c": None}).run()
            assert floor.state == {"a": "A", "b": "B", "c": "C"}, floor.state
            if TRACE:
                assert len(floor.log) == 26, f"{len(floor.log)} signals in one run"
            checked += 1
            signals += len(floor.log)

        async def all_runs() -> None:
            async with trio.open_nursery() as nursery:
                for _ in range(m):
                    nursery.start_soon(one)

        trio.run(all_runs)
        assert checked == m, f"{checked} of {m} runs"
        return m, {"runs": checked, "signals": signals}

    return run


BUILDS: dict[str, Build] = {"fanout": fanout, "chain": chain, "many-runs": many_runs}

if __name__ == "__main__":
    if TRACE:
        sys.argv.remove("--trace")
    main("floor+trace" if TRACE else "floor", f"trio {version('trio')}", BUILDS)
