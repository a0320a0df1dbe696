"""The multi-agent scenario the recording tests record and replay, and store helpers.

The scenario has three parallel researchers (one fails once and is retried), a reducer that
collects their findings in sorted order, a digest agent that streams thinking and uses a tool,
and a judge with structured output. Its final state and per-agent signal sequences do not
depend on scheduling, so any replay must reproduce them exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import trio

from openharness_actors import (
    HarnessError,
    JsonlSignalStore,
    MemorySignalStore,
    RetryPolicy,
    Signal,
    SignalStore,
    SqliteSignalStore,
    Usage,
    create_workflow,
)
from openharness_actors.harness import (
    EventSink,
    HarnessRequest,
    HarnessResult,
    TextComplete,
    TextDelta,
    ThinkingComplete,
    ThinkingDelta,
    ToolCall,
    ToolResult,
)

STORE_KINDS = ("memory", "sqlite", "jsonl")


def make_store(kind: str, tmp_path: Path) -> SignalStore:
    if kind == "memory":
        return MemorySignalStore()
    if kind == "sqlite":
        return SqliteSignalStore(tmp_path / "store" / "recordings.db")
    return JsonlSignalStore(tmp_path / "jsonl")


@attrs.frozen
class Verdict:
    score: int
    label: str


@attrs.frozen
class ResearchState:
    topic: str
    alpha: str | None = None
    beta: str | None = None
    gamma: str | None = None
    facts: tuple[str, ...] = ()
    digest: str | None = None
    verdict: Verdict | None = None


def lookup(term: str) -> str:
    """A tool the digest agent may call."""
    return f"definition of {term}"


class RichHarness:
    """A deterministic harness that streams thinking and text, calls a tool for ``digest``,
    fails ``beta``'s first attempt (retryable), and sleeps a random few milliseconds so the
    recorded scheduling varies."""

    name = "rich"
    model = "rich-1"

    def __init__(self, *, jitter: float = 0.004, hang: str | None = None) -> None:
        self.calls: list[HarnessRequest] = []
        self._jitter = jitter
        self._hang = hang
        self._failed_beta = False

    def preflight(self) -> None:
        pass

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        self.calls.append(request)
        await trio.sleep(random.uniform(0, self._jitter))
        agent = request.agent
        if agent == self._hang:
            await emit(TextDelta("partial "))
            await trio.sleep_forever()
        if agent == "beta" and not self._failed_beta:
            self._failed_beta = True
            raise HarnessError("overloaded, try later", code="overloaded_error", retryable=True)
        await emit(ThinkingDelta(f"thinking about {agent}"))
        await emit(ThinkingComplete(f"thinking about {agent}"))
        if agent == "digest":
            await emit(ToolCall("tool_1", "lookup", {"term": "facts"}))
            await emit(ToolResult("tool_1", "lookup", result=lookup("facts")))
        if agent == "judge":
            text = '{"score": 7, "label": "solid"}'
        else:
            text = f"{agent} finding: {request.prompt.splitlines()[0][-40:]}"
        for start in range(0, len(text), 7):
            await emit(TextDelta(text[start : start + 7]))
        await emit(TextComplete(text))
        return HarnessResult(
            output=text,
            usage=Usage(input_tokens=len(request.prompt), output_tokens=len(text)),
            stop_reason="end_turn",
            model="rich-1",
            cost_usd=0.001,
        )


def collect_fact(state: ResearchState, signal: Signal) -> ResearchState:
    return attrs.evolve(state, facts=tuple(sorted((*state.facts, signal.payload["output"]))))


@attrs.define
class Scenario:
    """Everything a run of the scenario needs; ``options()`` gives run_reactive keywords."""

    workflow: Any
    agents: dict[str, Any]
    state: ResearchState
    reducers: dict[str, Callable[[ResearchState, Signal], ResearchState]]

    def options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "agents": dict(self.agents),
            "state": self.state,
            "reducers": dict(self.reducers),
            "timeout": 30,
        }
        options.update(overrides)
        return options


def build_scenario() -> Scenario:
    wf = create_workflow(ResearchState)
    retry = RetryPolicy(attempts=2, initial_delay=0, jitter=0)
    agents = {
        name: wf.agent(
            prompt=f"Research {{{{ state.topic }}}} from the {name} angle",
            system="You are a careful researcher.",
            activate_on="workflow:start",
            updates=name,
            emits=["research:done"],
            retry=retry,
        )
        for name in ("alpha", "beta", "gamma")
    }
    agents["digest"] = wf.agent(
        prompt="Digest these facts:\n{{ state.facts }}",
        activate_on="state:facts:changed",
        when=lambda ctx: len(ctx.signal.payload["new_value"]) == 3,
        updates="digest",
        emits=["digest:done"],
        tools=[lookup],
    )
    agents["judge"] = wf.agent(
        prompt="Judge this digest: {{ state.digest }}",
        activate_on="digest:done",
        updates="verdict",
        output=Verdict,
        model="judge-model",
    )
    return Scenario(wf, agents, ResearchState(topic="tides"), {"research:done": collect_fact})


def per_agent(signals: Any) -> dict[str | None, list[tuple[str, Any]]]:
    """Each agent's signals as (name, payload), without what legitimately varies between
    runs: timings, and the old/new values of the shared ``facts`` key (the reducer applies
    the researchers' findings in whatever order they finish)."""
    sequences: dict[str | None, list[tuple[str, Any]]] = {}
    for signal in signals:
        payload = {k: v for k, v in signal.payload.items() if k != "duration_ms"}
        if signal.name == "state:facts:changed":
            payload = {"key": "facts", "agent": payload["agent"]}
        sequences.setdefault(signal.source.agent, []).append((signal.name, payload))
    return sequences
