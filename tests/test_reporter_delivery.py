"""Reporters receive every signal, workflow:end included; one that must be cut is counted."""

from __future__ import annotations

from typing import Any

import pytest
import trio
import trio.testing

from openharness_actors import Signal, WorkflowResult, create_workflow
from openharness_actors._core._run_end import CLEANUP_SECONDS


def _burst_workflow(emits: int) -> tuple[Any, dict[str, Any]]:
    """One agent that emits ``emits`` signals nobody listens to: a long, fast log."""
    wf = create_workflow(dict)
    agents = {
        "burst": wf.agent(
            body=lambda ctx: "x",
            activate_on=["workflow:start"],
            emits=[f"tick:{i}" for i in range(emits)],
        )
    }
    return wf, agents


class _Slow:
    """An async reporter spending ``delay`` (trio time) per signal."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.names: list[str] = []

    async def on_signal(self, signal: Signal) -> None:
        await trio.sleep(self.delay)
        self.names.append(signal.name)


async def test_a_slow_reporter_receives_every_signal_past_the_old_bound(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A reporter needing far longer than CLEANUP_SECONDS to catch up after the run still
    receives every signal, workflow:end last, and the result carries no warning."""
    wf, agents = _burst_workflow(2000)
    slow = _Slow(0.01)  # 2,000+ signals x 10 ms = 20 s of catching up, 4x the bound
    start = trio.current_time()
    result = await wf.run_reactive(agents=agents, state={}, reporters=[slow])
    assert trio.current_time() - start > 4 * CLEANUP_SECONDS
    assert slow.names == [s.name for s in result.signals]
    assert slow.names[-1] == "workflow:end"
    assert result.warnings == ()


class _HangsAt:
    """An async reporter that handles ``handled`` signals, then hangs forever."""

    def __init__(self, handled: int) -> None:
        self.handled = handled
        self.names: list[str] = []

    async def on_signal(self, signal: Signal) -> None:
        if len(self.names) == self.handled:
            await trio.sleep_forever()
        self.names.append(signal.name)


async def test_a_hung_reporter_is_cut_and_the_result_says_how_many_it_missed(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A reporter that stops making progress is cut after CLEANUP_SECONDS without a signal;
    the result's warning gives the exact number of signals it missed."""
    wf, agents = _burst_workflow(50)
    hung = _HangsAt(7)
    start = trio.current_time()
    result = await wf.run_reactive(agents=agents, state={}, reporters=[hung])
    elapsed = trio.current_time() - start
    assert CLEANUP_SECONDS <= elapsed < 2 * CLEANUP_SECONDS + 1
    total = len(result.signals)
    assert len(hung.names) == 7
    assert result.status == "completed"
    assert result.warnings == (
        f"reporter _HangsAt missed {total - 7} of {total} signals (workflow:end included): "
        f"it was cut after handling no signal for {CLEANUP_SECONDS}s",
    )


async def test_a_detached_reporter_is_counted_too() -> None:
    """A reporter that raises is detached; the result says how many signals it missed."""

    class Breaks:
        def __init__(self) -> None:
            self.seen = 0

        def on_signal(self, signal: Signal) -> None:
            self.seen += 1
            if self.seen == 3:
                raise RuntimeError("reporter bug")

    wf, agents = _burst_workflow(10)
    breaks = Breaks()
    result = await wf.run_reactive(agents=agents, state={}, reporters=[breaks])
    total = len(result.signals)
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(
        f"reporter Breaks missed {total - 2} of {total} signals (workflow:end included): "
        "it raised and was detached"
    )


async def test_a_cancelled_run_still_feeds_its_slow_reporter_to_the_end(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """When the host cancels the run, a slow async reporter still receives every signal the
    run logged, workflow:end (status "cancelled") included."""
    wf = create_workflow(dict)

    async def forever(ctx: Any) -> str:
        await trio.sleep_forever()
        return "never"

    agents = {
        "burst": wf.agent(
            body=lambda ctx: "x",
            activate_on=["workflow:start"],
            emits=[f"tick:{i}" for i in range(200)],
        ),
        "waits": wf.agent(body=forever, activate_on=["workflow:start"]),
    }
    slow = _Slow(0.05)  # 200+ signals x 50 ms = 10 s, twice the bound
    with trio.move_on_after(1):
        await wf.run_reactive(agents=agents, state={}, reporters=[slow])
        pytest.fail("the run should have been cancelled")
    assert slow.names[-1] == "workflow:end"
    assert len(slow.names) > 200


async def test_plain_reporters_keep_getting_everything_synchronously() -> None:
    """A plain reporter sees the whole log, workflow:end last, with no warning."""
    names: list[str] = []

    class Plain:
        def on_signal(self, signal: Signal) -> None:
            names.append(signal.name)

    wf, agents = _burst_workflow(100)
    result: WorkflowResult[Any] = await wf.run_reactive(
        agents=agents, state={}, reporters=[Plain()]
    )
    assert names == [s.name for s in result.signals]
    assert result.warnings == ()
