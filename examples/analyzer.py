"""The product page's analyzer workflow: one agent analyzes the input and ends the run.

Run it: ``python examples/analyzer.py "some text"``. With ``ANTHROPIC_API_KEY`` set it calls
Claude; without, it uses a scripted harness so it works offline.
"""

from __future__ import annotations

import os
import sys

import attrs
import trio

from openharness_actors import Harness, ScriptedHarness, WorkflowResult, create_workflow


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


def make_harness() -> Harness:
    """Claude when a key is available, otherwise a scripted stand-in."""
    if os.environ.get("ANTHROPIC_API_KEY"):
        from openharness_actors import AnthropicHarness

        return AnthropicHarness()  # the current Sonnet; key from ANTHROPIC_API_KEY
    return ScriptedHarness(
        {"analyzer": lambda request: f"(scripted) {len(request.prompt.split())} words analyzed."}
    )


async def analyze(text: str, harness: Harness | None = None) -> WorkflowResult[State]:
    return await workflow.run_reactive(
        agents={"analyzer": analyzer},
        state=State(input=text),
        harness=harness or make_harness(),
        end_when=lambda s: s.result is not None,
        timeout=60,
    )


async def main(text: str) -> None:
    result = await analyze(text)
    for signal in result.signals:
        print(f"[{signal.seq:>2}] {signal.name}")
    print(f"\nresult: {result.state.result}")
    print(
        f"duration: {result.metrics.duration_ms:.1f} ms, activations: {result.metrics.activations}"
    )


if __name__ == "__main__":
    trio.run(main, " ".join(sys.argv[1:]) or "The quick brown fox jumps over the lazy dog.")
