"""chain: N agents in a line, each activated by the previous one's emit, each bumping a counter.

Agent ``a0`` wakes on ``workflow:start``, agent ``a<i>`` on ``step:<i-1>``; each renders the
counter into its prompt, replies counter + 1 (zero-latency ``ScriptedHarness``), writes it to the
one ``counter`` key and emits ``step:<i>``. Only one activation runs at a time, so this measures
the latency of the whole signal path. 8 signals per activation (the 7 of fanout plus the emit).
"""

from __future__ import annotations

from typing import Any

from benchlib import BareAgent, BareRun, BareSignal, Case, Outcome, Runner, main

from openharness_actors import HarnessRequest, ScriptedHarness, create_workflow


def _trigger(i: int) -> str:
    return "workflow:start" if i == 0 else f"step:{i - 1}"


def _check(n: int, state: Any, signals: int) -> Outcome:
    assert state["counter"] == str(n), f"counter is {state['counter']!r}, expected {n}"
    assert signals == 8 * n + 2, f"{signals} signals for {n} activations"
    return Outcome(units=n, signals=signals, checks={"counter": state["counter"]})


def _bump(request: HarnessRequest) -> str:
    return str(int(request.prompt) + 1)


def framework(n: int) -> Runner:
    wf = create_workflow(dict)
    agents = {
        f"a{i}": wf.agent(
            prompt="{{ state.counter }}",
            activate_on=_trigger(i),
            emits=f"step:{i}",
            updates="counter",
        )
        for i in range(n)
    }
    harness = ScriptedHarness(default=_bump)

    async def run() -> Outcome:
        result = await wf.run_reactive(agents=agents, state={"counter": "0"}, harness=harness)
        return _check(n, result.state, len(result.signals))

    return run


def _bare_bump(state: dict[str, Any], trigger: BareSignal) -> str:
    prompt = f"{state['counter']}"
    return str(int(prompt) + 1)


def baseline(n: int) -> Runner:
    agents = [
        BareAgent(f"a{i}", (_trigger(i),), _bare_bump, emits=(f"step:{i}",), updates="counter")
        for i in range(n)
    ]

    async def run() -> Outcome:
        bare = await BareRun(agents, {"counter": "0"}).run()
        return _check(n, bare.state, len(bare.log))

    return run


CASE = Case(
    name="chain",
    unit="activation",
    sizes=(100, 1000),
    smoke_sizes=(5,),
    baseline=baseline,
    framework=framework,
    description=__doc__ or "",
)

if __name__ == "__main__":
    main(CASE)
