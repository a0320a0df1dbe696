"""A question-answering workflow for ``batch``: each input line is a ``Case``.

A question containing "fail" makes the harness fail that case, one containing "slow" takes
ten minutes. Calls are logged to
``$CLI_FIXTURE_CALLS`` (when set), so resuming can be shown to run nothing again.
"""

from __future__ import annotations

import os

import attrs
import trio

from openharness_actors import HarnessRequest, ScriptedHarness, create_workflow


@attrs.frozen
class Case:
    id: int
    question: str
    answer: str | None = None


workflow = create_workflow(Case)
solver = workflow.agent(
    prompt="Q: {{ question }}", activate_on=["workflow:start"], updates="answer"
)
agents = {"solver": solver}


def log_call(prompt: str) -> None:
    calls = os.environ.get("CLI_FIXTURE_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as log:
            log.write(prompt + "\n")


async def answer(request: HarnessRequest) -> str:
    log_call(request.prompt)
    if "fail" in request.prompt:
        raise ValueError("cannot answer that")
    if "slow" in request.prompt:
        await trio.sleep(600)
    return "A: " + request.prompt[3:][::-1]


harness = ScriptedHarness(default=answer)
