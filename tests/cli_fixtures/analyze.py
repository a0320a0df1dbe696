"""A two-agent workflow file for the CLI tests: ``analyze.py`` (default name ``workflow``).

The module-level convention: ``workflow`` is the Workflow, ``agents`` and ``harness`` the
run options. The scripted harness appends each call's agent to ``$CLI_FIXTURE_CALLS`` (when
set), so a test can prove a replay made no harness call; ``$CLI_FIXTURE_SLOW`` names an
agent whose calls take ten minutes.
"""

from __future__ import annotations

import os

import attrs

from openharness_actors import HarnessRequest, ScriptedHarness, create_workflow


@attrs.frozen
class State:
    input: str
    analysis: str | None = None
    summary: str | None = None


workflow = create_workflow(State)

analyzer = workflow.agent(
    prompt="Analyze: {{ state.input }}",
    activate_on=["workflow:start"],
    emits=["analysis:complete"],
    updates="analysis",
)
summarizer = workflow.agent(
    prompt="Summarize: {{ state.analysis }}",
    activate_on=["analysis:complete"],
    updates="summary",
)

agents = {"analyzer": analyzer, "summarizer": summarizer}


def reply(request: HarnessRequest) -> str:
    calls = os.environ.get("CLI_FIXTURE_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as log:
            log.write(request.agent + "\n")
    subject = request.prompt.split(": ", 1)[1]
    return f"{request.agent} says: {subject.upper()}"


# $CLI_FIXTURE_SLOW names an agent whose call takes ten minutes (to interrupt it).
harness = ScriptedHarness(
    default=reply, delay={os.environ.get("CLI_FIXTURE_SLOW", ""): 600.0}, chunk_size=6
)
