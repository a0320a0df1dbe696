"""A workflow file that waits for a person, for the CLI tests of ``signal``: ``approve.py``.

The writer drafts and asks for approval; ``approval:granted`` wakes the publisher. The file
declares ``external`` and ``on_wait = "suspend"``, so a journaled run suspends at the wait.
The harness appends each call's agent to ``$CLI_FIXTURE_CALLS`` (when set).
"""

from __future__ import annotations

import os

import attrs

from openharness_actors import HarnessRequest, ScriptedHarness, create_workflow


@attrs.frozen
class State:
    topic: str
    draft: str | None = None
    final: str | None = None


workflow = create_workflow(State)
agents = {
    "writer": workflow.agent(
        prompt="Write about {{ state.topic }}",
        activate_on=["workflow:start"],
        emits=["approval:requested"],
        updates="draft",
    ),
    "publisher": workflow.agent(
        prompt="Publish {{ state.draft }} ({{ signal.payload.note }})",
        activate_on=["approval:granted"],
        updates="final",
    ),
}
external = ["approval:*"]
on_wait = "suspend"


def reply(request: HarnessRequest) -> str:
    calls = os.environ.get("CLI_FIXTURE_CALLS")
    if calls:
        with open(calls, "a", encoding="utf-8") as log:
            log.write(request.agent + "\n")
    return f"<{request.prompt}>"


harness = ScriptedHarness(default=reply)
