"""AutoGen Core (``SingleThreadedAgentRuntime``, ``RoutedAgent``): the peer workloads, naturally.

Agents are ``RoutedAgent`` subclasses with one ``@message_handler``, reached by
``publish_message`` on topics with ``TypeSubscription`` (the topic source is the agent key, so
each source is its own agent instance, created by the runtime on its first message); state is
a dict the agents' factory closes over; a run ends at ``stop_when_idle()``.

* fanout N: a ``start`` agent, on ``Start``, publishes ``Work(i)`` to topic ``("work", i)``:
  N ``worker`` instances, each writing ``entries[f"k{i}"]``.
* chain N: ``step`` instance ``i`` bumps ``counter`` and publishes to ``("step", i + 1)``:
  N distinct agent instances in sequence.
* many-runs M: one runtime, M sessions (the topic source is the run id, the documented way
  to keep sessions apart): agent types ``a``, ``b``, ``c``, each writing its key of the
  session's state and publishing to the next type's topic for the same session.

Each measured run is one ``asyncio.run`` that creates the runtime, registers the agent types
and subscriptions, starts it, publishes, and stops when idle.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from autogen_core import (
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from peerlib import Build, main


@dataclass
class Start:
    n: int


@dataclass
class Work:
    i: int


@dataclass
class Step:
    i: int


class Starter(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("fans out")

    @message_handler
    async def on_start(self, message: Start, ctx: MessageContext) -> None:
        for i in range(message.n):
            await self.publish_message(Work(i), TopicId("work", str(i)))


class Worker(RoutedAgent):
    def __init__(self, entries: dict[str, str]) -> None:
        super().__init__("writes one entry")
        self._entries = entries

    @message_handler
    async def on_work(self, message: Work, ctx: MessageContext) -> None:
        self._entries[f"k{message.i}"] = "ok"


def fanout(n: int) -> Any:
    async def go(entries: dict[str, str]) -> None:
        runtime = SingleThreadedAgentRuntime()
        await Starter.register(runtime, "start", Starter)
        await Worker.register(runtime, "worker", lambda: Worker(entries))
        await runtime.add_subscription(TypeSubscription("start", "start"))
        await runtime.add_subscription(TypeSubscription("work", "worker"))
        runtime.start()
        await runtime.publish_message(Start(n), TopicId("start", "default"))
        await runtime.stop_when_idle()

    def run() -> tuple[int, dict[str, Any]]:
        entries: dict[str, str] = {}
        asyncio.run(go(entries))
        written = sum(1 for v in entries.values() if v == "ok")
        assert written == n, f"{written} of {n} keys written"
        return n, {"written": written}

    return run


class Stepper(RoutedAgent):
    def __init__(self, state: dict[str, Any]) -> None:
        super().__init__("bumps the counter")
        self._state = state

    @message_handler
    async def on_step(self, message: Step, ctx: MessageContext) -> None:
        state = self._state
        state["counter"] = str(int(state["counter"]) + 1)
        if message.i + 1 < state["n"]:
            await self.publish_message(Step(message.i + 1), TopicId("step", str(message.i + 1)))


def chain(n: int) -> Any:
    async def go(state: dict[str, Any]) -> None:
        runtime = SingleThreadedAgentRuntime()
        await Stepper.register(runtime, "step", lambda: Stepper(state))
        await runtime.add_subscription(TypeSubscription("step", "step"))
        runtime.start()
        await runtime.publish_message(Step(0), TopicId("step", "0"))
        await runtime.stop_when_idle()

    def run() -> tuple[int, dict[str, Any]]:
        state: dict[str, Any] = {"counter": "0", "n": n}
        asyncio.run(go(state))
        assert state["counter"] == str(n), state
        return n, {"counter": state["counter"]}

    return run


@dataclass
class Go:
    pass


class Writer(RoutedAgent):
    """Agent ``a``, ``b`` or ``c`` of one session: writes its key, passes on."""

    def __init__(self, key: str, after: str | None, sessions: dict[str, dict[str, Any]]) -> None:
        super().__init__(f"writes {key}")
        self._key = key
        self._after = after
        self._sessions = sessions

    @message_handler
    async def on_go(self, message: Go, ctx: MessageContext) -> None:
        session = self.id.key
        self._sessions[session][self._key] = self._key.upper()
        if self._after is not None:
            await self.publish_message(Go(), TopicId(self._after, session))


def many_runs(m: int) -> Any:
    async def go(sessions: dict[str, dict[str, Any]]) -> None:
        runtime = SingleThreadedAgentRuntime()
        for key, after in (("a", "b"), ("b", "c"), ("c", None)):
            await Writer.register(
                runtime, key, lambda key=key, after=after: Writer(key, after, sessions)
            )
            await runtime.add_subscription(TypeSubscription(key, key))
        runtime.start()
        for session in sessions:
            await runtime.publish_message(Go(), TopicId("a", session))
        await runtime.stop_when_idle()

    def run() -> tuple[int, dict[str, Any]]:
        sessions = {f"run{j}": {"a": None, "b": None, "c": None} for j in range(m)}
        asyncio.run(go(sessions))
        checked = sum(1 for s in sessions.values() if (s["a"], s["b"], s["c"]) == ("A", "B", "C"))
        assert checked == m, f"{checked} of {m} runs"
        return m, {"runs": checked}

    return run


BUILDS: dict[str, Build] = {"fanout": fanout, "chain": chain, "many-runs": many_runs}

if __name__ == "__main__":
    main("autogen-core", f"autogen-core {version('autogen-core')}", BUILDS)
