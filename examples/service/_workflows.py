"""The workflows the service runs, and the harness they call.

* The analyzer (the product page's): one agent analyzes ``state.input``; behind
  ``/analyze`` and ``/analyze/stream``, one run per request.
* The approval workflow (human in the loop): a drafter writes a draft and emits
  ``approval:requested``; the run then waits for a person. ``approval:granted`` has the
  publisher publish the draft, which ends the run (``end_when``); ``approval:denied`` has the
  reviser revise the draft and ask again. Either payload (any JSON object, ``{"note": ...}``
  say) reaches the agent's prompt as the reviewer's words. Behind ``POST /runs``; the signals come in through ``POST /runs/{id}/signals``.

This module defines workflows only: it knows no HTTP and no key.
"""

from __future__ import annotations

import os
from typing import Any

import attrs

from openharness_actors import Harness, HarnessRequest, ScriptedHarness, create_workflow

__all__ = [
    "AGENTS",
    "APPROVAL_AGENTS",
    "APPROVAL_EXTERNAL",
    "Proposal",
    "State",
    "approval",
    "make_harness",
    "workflow",
]


@attrs.frozen
class State:
    input: str
    result: str | None = None


workflow = create_workflow(State)
analyzer = workflow.agent(
    prompt="Analyze: {{ state.input }}",
    activate_on=["workflow:start"],
    emits=["analysis:complete"],
    updates="result",
)
AGENTS = {"analyzer": analyzer}


@attrs.frozen
class Proposal:
    """What the approval workflow works on: the request, the draft, the published text."""

    input: str
    draft: str | None = None
    final: str | None = None


approval = create_workflow(Proposal)
APPROVAL_AGENTS = {
    "drafter": approval.agent(
        prompt="Draft a reply to: {{ state.input }}",
        activate_on="workflow:start",
        updates="draft",
        emits=["approval:requested"],
    ),
    "reviser": approval.agent(
        prompt="Revise this draft: {{ state.draft }}\nThe reviewer said: {{ signal.payload }}",
        activate_on="approval:denied",
        updates="draft",
        emits=["approval:requested"],
    ),
    "publisher": approval.agent(
        prompt="Polish for publication: {{ state.draft }}\nThe reviewer said: {{ signal.payload }}",
        activate_on="approval:granted",
        updates="final",
    ),
}
APPROVAL_EXTERNAL = ("approval:*",)
"""The signals a person may send into an approval run."""


def make_harness(*, delay: float = 0.0) -> Harness:
    """Claude when ``ANTHROPIC_API_KEY`` is set (shared by every request, so its concurrency
    and rate limits hold service-wide), else a scripted stand-in that streams its reply."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        from openharness_actors import AnthropicHarness

        return AnthropicHarness()  # the current Sonnet; key from ANTHROPIC_API_KEY

    def reply(request: HarnessRequest) -> str:
        words = len(request.prompt.split()) - 1
        return f"(scripted) {words} words; nothing alarming found."

    def scripted(prefix: str) -> Any:
        def answer(request: HarnessRequest) -> str:
            return f"({prefix}) {request.prompt.splitlines()[0].split(': ', 1)[-1]}"

        return answer

    replies: dict[str, Any] = {
        "analyzer": reply,
        "drafter": scripted("draft"),
        "reviser": scripted("revised"),
        "publisher": scripted("published"),
    }
    return ScriptedHarness(replies, delay=delay, chunk_size=8)
