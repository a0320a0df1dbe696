"""Parallel review: three reviewers read the same change at once; a decider weighs them.

Run it: ``python examples/parallel_review.py [file-to-review]``. With ``ANTHROPIC_API_KEY`` set
it calls Claude through the API; without a key but with a logged-in Claude Code (the ``claude``
CLI of ``pip install 'openharness-actors[claude-code]'``, signed in with your subscription) it
runs through Claude Code; with neither, scripted reviewers answer, so it works offline
(``OPENHARNESS_HARNESS=offline`` forces that). A live view of the agents goes to stderr
(redrawn in place on a terminal, plain lines otherwise); the reviews and the decision go to
stdout. The command line runs it too:
``openharness-actors run examples/parallel_review.py:cli --state '{"change": "x = 1"}'``.

The shape: every reviewer activates on ``workflow:start`` (so they run in parallel), writes its
own state key and emits ``review:done``. The decider waits on a join,
``all_of("review:done", count=len(FOCUS))``: it activates exactly once, when all three reviews
are in, whatever order they finish in (``ctx.signals`` holds the three ``review:done`` signals,
``ctx.signal`` the last). The run then ends by itself: nothing is left to do.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import attrs
import trio

from openharness_actors import (
    AgentContext,
    Harness,
    LiveReporter,
    ScriptedHarness,
    WorkflowResult,
    all_of,
    choose_harness,
    create_workflow,
)

CHANGE = """\
def transfer(db, source, target, amount):
    balance = db.query(f"SELECT balance FROM accounts WHERE id = {source}")
    if balance >= amount:
        db.execute(f"UPDATE accounts SET balance = balance - {amount} WHERE id = {source}")
        db.execute(f"UPDATE accounts SET balance = balance + {amount} WHERE id = {target}")
"""


@attrs.frozen
class State:
    change: str
    security: str | None = None
    performance: str | None = None
    style: str | None = None
    decision: str | None = None


FOCUS = {
    "security": "security: injection, authorization, data exposure",
    "performance": "performance and correctness under concurrency",
    "style": "readability, naming and error handling",
}

workflow = create_workflow(State)

reviewers = {
    name: workflow.agent(
        system=f"You are a senior engineer reviewing code for {focus}. Be concrete and brief.",
        prompt="Review this change in one short paragraph:\n\n{{ state.change }}",
        activate_on=["workflow:start"],
        updates=name,
        emits=["review:done"],
    )
    for name, focus in FOCUS.items()
}


def decision_prompt(ctx: AgentContext[State]) -> str:
    # Every review:done is emitted after its review was committed, so the state has all three
    # (read in FOCUS order, so the prompt does not depend on which reviewer finished first).
    reviews = "\n\n".join(f"{name} review:\n{getattr(ctx.state, name)}" for name in FOCUS)
    return (
        f"{reviews}\n\nDecide: reply APPROVE or REQUEST CHANGES on the first line, "
        "then the one reason that matters most."
    )


decider = workflow.agent(
    prompt=decision_prompt,
    activate_on=[all_of("review:done", count=len(FOCUS))],
    updates="decision",
)

AGENTS = {**reviewers, "decider": decider}
agents = AGENTS  # what `openharness-actors check|graph examples/parallel_review.py` reads

SCRIPT = {
    "security": "SQL built with f-strings: `source`, `target` and `amount` flow straight into "
    "the query. Use parameters. No authorization check on `source` either.",
    "performance": "Check-then-update without a transaction: two concurrent transfers can both "
    "pass the balance check and overdraw the account. Wrap it in one transaction with a row lock.",
    "style": "`db.query` returns a row, not a number, so `balance >= amount` compares the wrong "
    "thing; name the result and fail loudly when the account does not exist.",
    "decider": "REQUEST CHANGES\nThe f-string SQL is injectable; fix that first, in a transaction.",
}


def scripted() -> Harness:
    """Scripted reviewers with human-ish delays."""
    delays = {"security": 0.6, "performance": 0.9, "style": 0.3, "decider": 0.4}
    return ScriptedHarness(SCRIPT, delay=delays, chunk_size=12)


def make_harness() -> Harness:
    """AnthropicHarness with a key, ClaudeCodeHarness with a Claude Code login, else scripted."""
    harness = choose_harness(scripted)
    assert harness is not None
    return harness


def cli() -> dict[str, Any]:
    """What ``openharness-actors run examples/parallel_review.py:cli`` runs."""
    return {
        "workflow": workflow,
        "agents": AGENTS,
        "harness": make_harness(),
        "end_when": lambda s: s.decision is not None,
    }


async def review(change: str, harness: Harness | None = None) -> WorkflowResult[State]:
    live = LiveReporter()
    async with live.ticking(interval=0.2):
        return await workflow.run_reactive(
            agents=AGENTS,
            state=State(change=change),
            harness=harness or make_harness(),
            reporters=[live],
            timeout=300,
        )


async def main(change: str) -> None:
    result = await review(change)
    state = result.state
    for name in FOCUS:
        print(f"── {name} review\n{getattr(state, name)}\n")
    print(f"══ decision\n{state.decision}\n")
    metrics = result.metrics
    print(
        f"{result.status} in {metrics.duration_ms / 1000:.2f}s · {metrics.activations} "
        f"activations · {metrics.usage.total_tokens} tokens · {metrics.signals} signals"
    )


if __name__ == "__main__":
    text = Path(sys.argv[1]).read_text() if len(sys.argv) > 1 else CHANGE
    trio.run(main, text)
