"""The built-in reporters: console lines, the live view and metrics totals."""

from __future__ import annotations

import io

import attrs
import pytest
import trio

from openharness_actors import (
    ConsoleReporter,
    HarnessError,
    LiveReporter,
    MetricsReporter,
    RestartPolicy,
    ScriptedHarness,
    WorkflowTimeoutError,
    create_workflow,
    open_engine,
)


@attrs.frozen
class State:
    input: str
    a: str | None = None
    b: str | None = None


wf = create_workflow(State)
agent_a = wf.agent(prompt="A {{ state.input }}", activate_on=["workflow:start"], updates="a")
agent_b = wf.agent(prompt="B {{ state.input }}", activate_on=["workflow:start"], updates="b")
AGENTS = {"a": agent_a, "b": agent_b}


async def test_console_one_line_per_signal_with_depth() -> None:
    """One line per signal, seq first, indented by causal depth, agent shown."""
    out = io.StringIO()
    result = await wf.run_reactive(
        agents=AGENTS,
        state=State("x"),
        harness=ScriptedHarness(default="r"),
        reporters=[ConsoleReporter(out)],
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == len(result.signals)
    assert lines[0] == "[   0] workflow:start"
    activated = next(line for line in lines if "agent:activated" in line)
    assert activated.endswith("agent:activated (a)") or activated.endswith("agent:activated (b)")
    assert "   agent:activated" in activated  # depth 1 under workflow:start
    harness_start = next(line for line in lines if "harness:start" in line)
    assert "    harness:start" in harness_start  # depth 2 under the activation


async def test_console_payloads_truncated_and_filtered() -> None:
    """payloads=True appends JSON cut to max_payload; only= keeps matching signals."""
    out = io.StringIO()
    reporter = ConsoleReporter(out, payloads=True, max_payload=20, timestamps=True, only="text:*")
    await wf.run_reactive(
        agents={"a": agent_a},
        state=State("x"),
        harness=ScriptedHarness(default="a long reply that will be cut"),
        reporters=[reporter],
    )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "text:delta" in lines[0] and "text:complete" in lines[1]
    assert lines[0].endswith("…") and len(lines[0].split(" (a) ")[1]) == 20
    assert lines[0][2] == ":" and lines[0][8] == "."  # HH:MM:SS.mmm


async def test_live_plain_lines_when_not_a_tty() -> None:
    """Off a terminal the live view prints lifecycle lines only, without escapes."""
    out = io.StringIO()
    result = await wf.run_reactive(
        agents=AGENTS,
        state=State("x"),
        harness=ScriptedHarness(default="r", chunk_size=1),
        reporters=[LiveReporter(out)],
    )
    text = out.getvalue()
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0] == f"run {result.run_id} started: a, b"
    assert lines[-1].startswith(f"run {result.run_id} completed in ")
    assert len(lines) == 6  # start, 2 activated, 2 completed, end
    assert "delta" not in text


async def test_live_view_redraws_in_place_on_a_tty() -> None:
    """On a terminal the view redraws one block: header plus a row per agent."""
    out = io.StringIO()
    live = LiveReporter(out, tty=True, refresh=0.0, width=80)
    await wf.run_reactive(
        agents=AGENTS,
        state=State("x"),
        harness=ScriptedHarness({"a": "alpha reply", "b": "beta"}, chunk_size=3),
        reporters=[live],
    )
    text = out.getvalue()
    assert "\x1b[3F" in text  # moved up over the previous 3-line block
    view = live.lines()
    assert view[0].startswith("completed ·") and "2 activations" in view[0]
    assert "tokens" in view[0]
    assert view[1].startswith(" ✓ a") and "alpha reply" in view[1]
    assert view[2].startswith(" ✓ b") and "beta" in view[2]
    assert all(len(line) <= 80 for line in view)


async def test_live_ticking_redraws_while_waiting(autojump_clock: trio.testing.MockClock) -> None:
    """ticking() redraws on a timer while a slow harness produces no signal."""
    out = io.StringIO()
    live = LiveReporter(out, tty=True, refresh=1000.0)
    async with live.ticking(interval=0.5):
        await wf.run_reactive(
            agents={"a": agent_a},
            state=State("x"),
            harness=ScriptedHarness(default="r", delay=5.0),
            reporters=[live],
        )
    assert out.getvalue().count("\x1b[2K") > 10  # many redraws, not one per signal


async def test_live_marks_agents_cut_by_timeout() -> None:
    """An activation cut by the run's timeout shows as cancelled, not running forever."""
    live = LiveReporter(io.StringIO(), tty=True)
    with pytest.raises(WorkflowTimeoutError):
        await wf.run_reactive(
            agents={"a": agent_a},
            state=State("x"),
            harness=ScriptedHarness(default="r", delay=10.0),
            reporters=[live],
            timeout=0.05,
        )
    assert "timeout" in live.lines()[0]
    assert "cancelled" in live.lines()[1]


async def test_metrics_totals_across_runs() -> None:
    """Totals across runs: statuses, signals by name, per-agent outcomes, latency, tokens."""
    metrics = MetricsReporter()
    async with open_engine(reporters=[metrics]) as engine:
        ok = await engine.start(
            wf, agents=AGENTS, state=State("x"), harness=ScriptedHarness(default="reply")
        )
        bad = await engine.start(
            wf,
            agents={"a": agent_a},
            state=State("y"),
            harness=ScriptedHarness({"a": [HarnessError("boom")]}),
        )
        good = await ok.result()
        with pytest.raises(HarnessError) as failed:
            await bad.result()
    snap = metrics.snapshot()
    assert snap.runs_started == 2 and snap.runs_running == 0
    assert snap.runs_by_status == {"completed": 1, "failed": 1}
    assert snap.agents["a"].activations == 2 and snap.agents["a"].completed == 1
    assert snap.agents["a"].failed == 1 and snap.harness_errors_by_agent == {"a": 1}
    assert snap.agents["b"].completed == 1 and snap.agents["b"].mean_duration_ms >= 0
    assert snap.usage == good.metrics.usage
    assert snap.signals_by_name["workflow:end"] == 2
    partial = failed.value.partial
    assert partial is not None
    assert snap.signals == good.metrics.signals + partial.metrics.signals
    data = snap.to_dict()
    assert data["agents"]["a"]["mean_duration_ms"] == snap.agents["a"].mean_duration_ms
    assert data["agents"]["a"]["harness_errors"] == 1


async def test_metrics_per_agent_figures_are_the_runs_own() -> None:
    """After one run the reporter's per-agent AgentMetrics equal the result's (restarts
    included), durations aside: the reporter measures those from signal timestamps."""
    metrics = MetricsReporter()
    result = await wf.run_reactive(
        agents=AGENTS,
        state=State("x"),
        harness=ScriptedHarness({"a": [HarnessError("down", code="500"), "fine"], "b": "ok"}),
        restart=RestartPolicy(max_restarts=2),
        reporters=[metrics],
    )
    snap = metrics.snapshot()
    assert snap.agents["a"].restarts == 1 and snap.agents["a"].completed == 1
    assert {name: attrs.evolve(m, duration_ms=0.0) for name, m in snap.agents.items()} == {
        name: attrs.evolve(m, duration_ms=0.0) for name, m in result.metrics.agents.items()
    }
    assert snap.harness_errors_by_agent == {"a": 1}
    assert set(snap.max_duration_ms_by_agent) == {"a", "b"}
