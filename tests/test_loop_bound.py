"""The default loop bound: 10,000 activations per run, ``None`` unbounded, flow warnings logged."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
import trio

from openharness_actors import ActivationLimitError, ScriptedHarness, create_workflow
from openharness_actors._core._run import DEFAULT_MAX_ACTIVATIONS
from openharness_actors.cli._app import build_parser


async def test_self_waking_run_ends_at_the_default_bound() -> None:
    """'*:complete' wakes on its own text:complete; without max_activations the run fails
    within seconds, naming the agent and the self-wake."""
    wf = create_workflow(dict)
    echo = wf.agent(prompt="hi", activate_on=["workflow:start", "*:complete"])
    with trio.fail_after(30):
        with pytest.raises(ActivationLimitError) as info:
            await wf.run_reactive(
                agents={"echo": echo}, state={}, harness=ScriptedHarness({"echo": "again"})
            )
    error = info.value
    assert error.limit == DEFAULT_MAX_ACTIVATIONS == 10_000
    assert error.busiest[0] == ("echo", 10_000)
    assert "echo (10000)" in str(error)
    assert "'*:complete'" in str(error) and "'text:complete'" in str(error)
    assert error.partial is not None
    assert error.partial.metrics.activations == 10_000
    assert error.partial.status == "failed"


async def test_loop_without_self_wake_gets_no_self_wake_note() -> None:
    """A ping-pong loop is bounded too; no self-wake is claimed for it."""
    wf = create_workflow(dict)
    ping = wf.agent(body=lambda ctx: None, activate_on=["workflow:start", "pong"], emits=["ping"])
    pong = wf.agent(body=lambda ctx: None, activate_on=["ping"], emits=["pong"])
    with pytest.raises(ActivationLimitError) as info:
        await wf.run_reactive(agents={"ping": ping, "pong": pong}, state={}, max_activations=50)
    assert "check finds" not in str(info.value)
    assert {name for name, _ in info.value.busiest} == {"ping", "pong"}


async def test_none_means_unbounded() -> None:
    """max_activations=None lets a loop run past 10,000 activations to its end_when."""
    wf = create_workflow(dict)

    def count(ctx: Any) -> int:
        return int(ctx.state["n"]) + 1

    counter = wf.agent(body=count, activate_on=["workflow:start", "state:n:changed"], updates="n")
    result = await wf.run_reactive(
        agents={"counter": counter},
        state={"n": 0},
        end_when=lambda s: s["n"] > DEFAULT_MAX_ACTIVATIONS,
        max_activations=None,
    )
    assert result.state["n"] == DEFAULT_MAX_ACTIVATIONS + 1
    assert result.metrics.activations == DEFAULT_MAX_ACTIVATIONS + 1


async def test_flow_warnings_are_logged_once_per_definition() -> None:
    """A guarded self-wake is logged as a warning at the first run, not again at the next."""
    wf = create_workflow(dict)
    guarded = wf.agent(
        prompt="hi",
        activate_on=["workflow:start", "*:complete"],
        when=lambda ctx: ctx.signal.name == "workflow:start",
    )
    agents = {"guarded": guarded}
    harness = ScriptedHarness({"guarded": "once"})
    with structlog.testing.capture_logs() as first:
        result = await wf.run_reactive(agents=agents, state={}, harness=harness)
    assert result.metrics.activations == 1
    warnings = [e for e in first if e["log_level"] == "warning"]
    assert len(warnings) == 1
    assert warnings[0]["kind"] == "self_wake" and warnings[0]["agent"] == "guarded"
    assert "'text:complete'" in warnings[0]["event"]
    with structlog.testing.capture_logs() as second:
        await wf.run_reactive(agents=agents, state={}, harness=harness)
    assert [e for e in second if e["log_level"] == "warning"] == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], DEFAULT_MAX_ACTIVATIONS),
        (["--max-activations", "7"], 7),
        (["--max-activations", "none"], None),
    ],
)
def test_cli_activation_limit(argv: list[str], expected: int | None) -> None:
    """The command line's --max-activations defaults to the library's bound; 'none' lifts it."""
    args = build_parser().parse_args(["run", "flow.py", *argv])
    assert args.max_activations == expected
