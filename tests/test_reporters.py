"""Reporters receive every signal and can neither stall nor break a run."""

from __future__ import annotations

import attrs
import trio
import trio.testing

from openharness_actors import ScriptedHarness, Signal, create_workflow


@attrs.frozen
class State:
    input: str
    result: str | None = None


wf = create_workflow(State)
analyzer = wf.agent(prompt="{{ state.input }}", activate_on=["workflow:start"], updates="result")


async def test_failing_reporter_is_detached_and_run_succeeds() -> None:
    """A reporter that raises is detached; the run and other reporters carry on."""
    good: list[str] = []

    class Bad:
        def on_signal(self, signal: Signal) -> None:
            raise RuntimeError("reporter bug")

    class Good:
        def on_signal(self, signal: Signal) -> None:
            good.append(signal.name)

    result = await wf.run_reactive(
        agents={"analyzer": analyzer},
        state=State("x"),
        harness=ScriptedHarness(default="r"),
        reporters=[Bad(), Good()],
    )
    assert result.status == "completed"
    assert good == [s.name for s in result.signals]


async def test_slow_async_reporter_does_not_stall_run(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """An async reporter sleeping per signal falls behind without slowing the run."""
    got: list[str] = []
    finished_at: list[float] = []

    class Slow:
        async def on_signal(self, signal: Signal) -> None:
            await trio.sleep(0.1)
            got.append(signal.name)

    class Clock:
        def on_signal(self, signal: Signal) -> None:
            if signal.name == "workflow:end":
                finished_at.append(trio.current_time())

    start = trio.current_time()
    result = await wf.run_reactive(
        agents={"analyzer": analyzer},
        state=State("x"),
        harness=ScriptedHarness(default="r"),
        reporters=[Slow(), Clock()],
    )
    assert finished_at[0] - start == 0
    assert got == [s.name for s in result.signals]  # caught up within the grace period
