"""contention: N parallel activations all adding to one key through a reducer.

``workflow:start`` wakes N agents at once; agent ``a<i>`` replies ``i`` (zero-latency
``ScriptedHarness``) and emits ``add``; the reducer on ``add`` adds the reply to ``total``. The
state actor applies the N additions one at a time, so the check is exact: ``total`` must be
``1 + 2 + … + N`` and there must be exactly N ``state:total:changed`` signals (nothing lost,
nothing applied twice). 8 signals per activation: the 5 of the harness path,
``agent:completed``, ``add`` and the reducer's ``state:total:changed``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchlib import BareAgent, BareRun, BareSignal, Case, Outcome, Runner, main

from openharness_actors import FrozenState, HarnessRequest, ScriptedHarness, Signal, create_workflow


def _check(n: int, state: Any, names: list[str]) -> Outcome:
    expected = n * (n + 1) // 2
    assert state["total"] == expected, f"total {state['total']}, expected {expected}"
    changes = names.count("state:total:changed")
    assert changes == n, f"{changes} changes for {n} additions"
    assert len(names) == 8 * n + 2, f"{len(names)} signals for {n} activations"
    return Outcome(
        units=n, signals=len(names), checks={"total": state["total"], "changes": changes}
    )


def _reply(request: HarnessRequest) -> str:
    return request.agent[1:]


def _add(state: Any, signal: Signal) -> Any:
    frozen: FrozenState = state  # dict states reach reducers as FrozenState snapshots
    return frozen.set("total", frozen["total"] + int(signal.payload["output"]))


def framework(n: int) -> Runner:
    wf = create_workflow(dict)
    agents = {
        f"a{i}": wf.agent(prompt="go", activate_on="workflow:start", emits="add")
        for i in range(1, n + 1)
    }
    harness = ScriptedHarness(default=_reply)

    async def run() -> Outcome:
        result = await wf.run_reactive(
            agents=agents, state={"total": 0}, harness=harness, reducers={"add": _add}
        )
        return _check(n, result.state, [s.name for s in result.signals])

    return run


def _bare_add(state: dict[str, Any], signal: BareSignal) -> tuple[str, Any]:
    return "total", state["total"] + int(signal[2]["output"])


def _bare_reply(i: int) -> Callable[[dict[str, Any], BareSignal], str]:
    return lambda state, trigger: str(i)


def baseline(n: int) -> Runner:
    agents = [
        BareAgent(f"a{i}", ("workflow:start",), _bare_reply(i), emits=("add",))
        for i in range(1, n + 1)
    ]

    async def run() -> Outcome:
        bare = await BareRun(agents, {"total": 0}, {"add": _bare_add}).run()
        return _check(n, bare.state, [s[1] for s in bare.log])

    return run


CASE = Case(
    name="contention",
    unit="activation",
    sizes=(1000,),
    smoke_sizes=(5,),
    baseline=baseline,
    framework=framework,
    description=__doc__ or "",
)

if __name__ == "__main__":
    main(CASE)
