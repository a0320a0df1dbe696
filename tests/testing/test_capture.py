"""capture_signals(): every run started in the block is captured, whatever its outcome."""

from __future__ import annotations

from typing import Any

import pytest
import trio

from openharness_actors import HarnessError, ScriptedHarness, create_workflow, open_engine
from openharness_actors.testing import SignalCapture, capture_signals


def workflow() -> tuple[Any, dict[str, Any]]:
    wf = create_workflow(dict)
    agent = wf.agent(prompt="Echo {{ state.word }}", activate_on="workflow:start", updates="out")
    return wf, {"agents": {"echo": agent}, "state": {"word": "hi", "out": None}}


async def test_captures_runs_inside_the_block_only() -> None:
    """Runs inside the block are captured in broker order, per run; runs after it are not."""
    wf, options = workflow()
    harness = ScriptedHarness({"echo": "hello"})
    with capture_signals() as captured:
        first = await wf.run_reactive(**options, harness=harness)
        second = await wf.run_reactive(**options, harness=harness)
    await wf.run_reactive(**options, harness=harness)
    assert list(captured.runs) == [first.run_id, second.run_id]
    assert captured.run(first.run_id) == list(first.signals)
    assert captured.signals == [*first.signals, *second.signals]
    assert captured.names()[0] == "workflow:start"
    assert len(captured) == len(first.signals) * 2
    with pytest.raises(LookupError, match="2 runs captured"):
        captured.run()
    with pytest.raises(LookupError, match="no run 'nope'"):
        captured.run("nope")


async def test_failed_runs_and_engine_runs_are_captured() -> None:
    """A failed run's trace (with workflow:end) and runs started on an engine inside the
    block are captured; a pattern keeps only matching signals."""
    wf, options = workflow()
    with capture_signals("workflow:*") as captured:
        with pytest.raises(HarnessError):
            await wf.run_reactive(**options, harness=ScriptedHarness({"echo": RuntimeError("x")}))
        async with open_engine() as engine:
            handle = await engine.start(wf, **options, harness=ScriptedHarness({"echo": "ok"}))
            await handle.result()
    assert captured.names() == ["workflow:start", "workflow:end"] * 2
    assert captured.signals[1].payload["status"] == "failed"
    assert captured.named("*:end")[1].payload["status"] == "completed"


async def test_capture_is_also_a_reporter() -> None:
    """A SignalCapture passed as a reporter collects the run it is given to."""
    wf, options = workflow()
    capture = SignalCapture()
    result = await wf.run_reactive(
        **options, harness=ScriptedHarness({"echo": "x"}), reporters=[capture]
    )
    assert capture.signals == list(result.signals)
    capture.clear()
    assert len(capture) == 0


async def test_nested_captures_and_tasks() -> None:
    """Nested captures both see inner runs; runs in tasks started inside the block count."""
    wf, options = workflow()
    with capture_signals() as outer:
        with capture_signals() as inner:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    lambda: wf.run_reactive(**options, harness=ScriptedHarness({"echo": "x"}))
                )
        await wf.run_reactive(**options, harness=ScriptedHarness({"echo": "y"}))
    assert len(inner.runs) == 1
    assert len(outer.runs) == 2


async def test_captured_signals_fixture(captured_signals: SignalCapture) -> None:
    """The plugin's captured_signals fixture captures the test's runs."""
    wf, options = workflow()
    result = await wf.run_reactive(**options, harness=ScriptedHarness({"echo": "x"}))
    assert captured_signals.run() == list(result.signals)
