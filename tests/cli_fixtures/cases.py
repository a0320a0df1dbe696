"""A question-answering workflow for ``batch``: each input line is a ``Case``.

A question containing "fail" makes the harness fail that case. Calls are logged to
``$CLI_FIXTURE_CALLS`` (when set), so resuming can be shown to run nothing again.
"""

from __future__ import annotations

import os

import attrs

from openharness_actors import HarnessRequest, ScriptedHarness, create_workflow


@attrs.frozen
class Case:
    id: int
    question: str
    answer: str | None = None


workflow = create_workflow(Case)
solver = workflow.agent(prompt="Q: {{ question }}", activate_on=["workflow:start"], updates="answer")
agents = {"solver": solver}


def answer(request: HarnessRequest) -> str:
    calls = os.environ.get("CLI_FIXTURE_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as log:
            log.write(request.prompt + "\n")
    if "fail" in request.prompt:
        raise ValueError("cannot answer that")
    return "A: " + request.prompt[3:][::-1]


harness = ScriptedHarness(default=answer)
