"""Planner, coder, reviewer: a loop that ends when the reviewer approves.

Run it: ``python examples/plan_code_review.py ["task"]``. With ``ANTHROPIC_API_KEY`` set it
calls Claude; without, a scripted team answers (the reviewer asks for one change, then
approves), so it works offline. A console reporter prints the signal flow as it happens.

The loop is made of signals only: the planner wakes on ``workflow:start`` and emits
``plan:ready``; the coder wakes on ``plan:ready`` and on ``review:done`` (its guard skips an
approved review, or a round past the limit); the reviewer wakes on ``code:ready`` and returns a
structured :class:`Review`. A reducer counts rounds from ``code:ready`` signals, and
``end_when`` stops the run the moment a review approves.
"""

from __future__ import annotations

import os
import sys

import attrs
import trio

from openharness_actors import (
    AgentContext,
    ConsoleReporter,
    Harness,
    ScriptedHarness,
    Signal,
    WorkflowResult,
    create_workflow,
)

MAX_ROUNDS = 3


@attrs.frozen
class Review:
    approved: bool
    comments: str


@attrs.frozen
class State:
    task: str
    plan: str | None = None
    code: str | None = None
    review: Review | None = None
    rounds: int = 0


workflow = create_workflow(State)

planner = workflow.agent(
    prompt="Write a short numbered plan (at most 4 steps) for this task:\n{{ state.task }}",
    activate_on=["workflow:start"],
    updates="plan",
    emits=["plan:ready"],
)


def another_round(ctx: AgentContext[State]) -> bool:
    review = ctx.state.review
    return ctx.state.rounds < MAX_ROUNDS and (review is None or not review.approved)


def coder_prompt(ctx: AgentContext[State]) -> str:
    prompt = f"Task: {ctx.state.task}\nPlan:\n{ctx.state.plan}\n"
    if ctx.state.review is not None:
        prompt += (
            f"\nYour previous code:\n{ctx.state.code}\nReviewer: {ctx.state.review.comments}\n"
        )
    return prompt + "\nReply with the Python code only."


coder = workflow.agent(
    prompt=coder_prompt,
    activate_on=["plan:ready", "review:done"],
    when=another_round,
    updates="code",
    emits=["code:ready"],
)

reviewer = workflow.agent(
    system='Reply with JSON only: {"approved": true|false, "comments": "<one sentence>"}.',
    prompt="Task: {{ state.task }}\n\nReview this code:\n{{ state.code }}",
    activate_on=["code:ready"],
    output=Review,
    updates="review",
    emits=["review:done"],
)


def count_round(state: State, signal: Signal) -> State:
    return attrs.evolve(state, rounds=state.rounds + 1)


SCRIPT = {
    "planner": "1. Split the text into words.\n2. Count each word.\n3. Return the top n.",
    "coder": [
        "def top_words(text, n):\n    counts = {}\n    for w in text.split():\n"
        "        counts[w] = counts.get(w, 0) + 1\n"
        "    return sorted(counts, key=counts.get)[-n:]",
        "from collections import Counter\n\ndef top_words(text: str, n: int) -> list[str]:\n"
        "    return [w for w, _ in Counter(text.lower().split()).most_common(n)]",
    ],
    "reviewer": [
        '{"approved": false, "comments": "Ignores case and returns the least common last; '
        'use Counter.most_common."}',
        '{"approved": true, "comments": "Correct, typed and idiomatic."}',
    ],
}


def make_harness() -> Harness:
    """Claude when a key is available, otherwise the scripted team."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        from openharness_actors import AnthropicHarness

        return AnthropicHarness()  # the current Sonnet; key from ANTHROPIC_API_KEY
    return ScriptedHarness(SCRIPT, delay=0.05)


async def build(task: str, harness: Harness | None = None) -> WorkflowResult[State]:
    return await workflow.run_reactive(
        agents={"planner": planner, "coder": coder, "reviewer": reviewer},
        state=State(task=task),
        harness=harness or make_harness(),
        reducers={"code:ready": count_round},
        end_when=lambda s: s.review is not None and s.review.approved,
        max_activations=4 * MAX_ROUNDS,  # a loop guard, should the guard above be wrong
        reporters=[ConsoleReporter(only=["agent:*", "workflow:*", "*:ready", "review:done"])],
        timeout=600,
    )


async def main(task: str) -> None:
    result = await build(task)
    state = result.state
    print(f"\nplan:\n{state.plan}\n\nfinal code (round {state.rounds}):\n{state.code}\n")
    if state.review is not None:
        verdict = "approved" if state.review.approved else "not approved"
        print(f"review: {verdict}: {state.review.comments}")
    print(f"{result.status} in {result.metrics.duration_ms / 1000:.2f}s")


if __name__ == "__main__":
    trio.run(main, " ".join(sys.argv[1:]) or "Return the n most common words of a text.")
