"""A workflow that waits for an approval from outside: the writer drafts, then the run waits
for ``approval:granted`` (the publisher) or ``approval:denied`` (the reviser). Shared by the
suspend tests of single runs and of batches."""

from __future__ import annotations

from typing import Any

import attrs

from openharness_actors import HarnessRequest, create_workflow


@attrs.frozen
class Review:
    topic: str
    draft: str | None = None
    final: str | None = None
    revised: str | None = None


wf = create_workflow(Review)
AGENTS: dict[str, Any] = {
    "writer": wf.agent(
        prompt="write {{ topic }}",
        activate_on="workflow:start",
        updates="draft",
        emits=["approval:requested"],
    ),
    "publisher": wf.agent(
        prompt="publish {{ draft }} ({{ signal.payload.note }})",
        activate_on="approval:granted",
        updates="final",
    ),
    "reviser": wf.agent(
        prompt="revise {{ draft }} ({{ signal.payload.note }})",
        activate_on="approval:denied",
        updates="revised",
    ),
}
OPTIONS: dict[str, Any] = {"external": ["approval:*"], "on_wait": "suspend"}


def echo(request: HarnessRequest) -> str:
    return f"<{request.prompt}>"
