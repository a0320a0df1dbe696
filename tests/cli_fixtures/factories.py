"""Factories (no-argument callables returning the run options) for the CLI tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from openharness_actors import HarnessError, ScriptedHarness, create_workflow

if TYPE_CHECKING:  # the type checkers do not put a file's directory on the path; the CLI does
    from tests.cli_fixtures import analyze
else:
    import analyze  # a sibling module: the file's directory is on sys.path


def failing() -> dict[str, Any]:
    """The summarizer's harness call fails."""
    harness = ScriptedHarness(
        {"analyzer": "fine", "summarizer": HarnessError("model overloaded", code="overloaded")}
    )
    return {"workflow": analyze.workflow, "agents": analyze.agents, "harness": harness}


def slow() -> dict[str, Any]:
    """The analyzer thinks for ten minutes (for timeouts and interrupts)."""
    return {
        "workflow": analyze.workflow,
        "agents": analyze.agents,
        "harness": ScriptedHarness(default="x", delay=600),
    }


def ending() -> dict[str, Any]:
    """end_when stops the run after the analysis."""
    return {
        "workflow": analyze.workflow,
        "agents": analyze.agents,
        "harness": ScriptedHarness(default="done"),
        "end_when": lambda state: state.analysis is not None,
    }


@attrs.frozen
class Counter:
    count: int = 0


loop_workflow = create_workflow(Counter)
looper = loop_workflow.agent(
    body=lambda ctx: ctx.state.count + 1,
    activate_on=["workflow:start", "tick"],
    emits=["tick"],
    updates="count",
)


def looping() -> dict[str, Any]:
    """An agent that wakes itself forever (stopped by --max-activations)."""
    return {"workflow": loop_workflow, "agents": {"looper": looper}}


def not_a_mapping() -> list[str]:
    """Returns the wrong thing."""
    return ["workflow"]


def unknown_option() -> dict[str, Any]:
    """Returns an option the CLI owns."""
    return {"workflow": analyze.workflow, "agents": analyze.agents, "timeout": 3}


def raises() -> dict[str, Any]:
    """Fails to build."""
    raise RuntimeError("no config")


not_callable = 42


def no_agents() -> dict[str, Any]:
    """Forgets the agents."""
    return {"workflow": analyze.workflow}
