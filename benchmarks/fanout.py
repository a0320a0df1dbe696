"""fanout: one ``workflow:start`` activates N agents in parallel; each writes its own key.

The run ends at quiescence, once every agent has written. Framework: N harness agents on the
zero-latency ``ScriptedHarness`` over a dict state with N keys. Baseline: the same N agents
in :class:`benchlib.BareRun`. Per activation both traces hold 7 signals (``agent:activated``,
``harness:start``, ``text:delta``, ``text:complete``, ``harness:end``,
``state:k<i>:changed``, ``agent:completed``) plus ``workflow:start`` and ``workflow:end``.
"""

from __future__ import annotations

from typing import Any

from benchlib import BareAgent, BareRun, Case, Outcome, Runner, main

from openharness_actors import ScriptedHarness, create_workflow

REPLY = "ok"


def _check(n: int, state: Any, signals: int) -> Outcome:
    written = sum(1 for i in range(n) if state[f"k{i}"] == REPLY)
    assert written == n, f"only {written} of {n} keys written"
    assert signals == 7 * n + 2, f"{signals} signals for {n} activations"
    return Outcome(units=n, signals=signals, checks={"written": written})


def framework(n: int) -> Runner:
    wf = create_workflow(dict)
    agents = {
        f"a{i}": wf.agent(prompt="go", activate_on="workflow:start", updates=f"k{i}")
        for i in range(n)
    }
    state = {f"k{i}": None for i in range(n)}
    harness = ScriptedHarness(default=REPLY)

    async def run() -> Outcome:
        result = await wf.run_reactive(agents=agents, state=state, harness=harness)
        return _check(n, result.state, len(result.signals))

    return run


def baseline(n: int) -> Runner:
    agents = [
        BareAgent(f"a{i}", ("workflow:start",), lambda state, trigger: REPLY, updates=f"k{i}")
        for i in range(n)
    ]

    async def run() -> Outcome:
        bare = await BareRun(agents, {f"k{i}": None for i in range(n)}).run()
        return _check(n, bare.state, len(bare.log))

    return run


CASE = Case(
    name="fanout",
    unit="activation",
    sizes=(100, 1000, 10000),
    smoke_sizes=(5,),
    baseline=baseline,
    framework=framework,
    description=__doc__ or "",
)

if __name__ == "__main__":
    main(CASE)
