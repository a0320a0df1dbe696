"""Trace assertions: they pass on what is there and, when they fail, show what was found."""

from __future__ import annotations

import attrs
import pytest

from openharness_actors import (
    ScriptedHarness,
    Signal,
    SignalSource,
    WorkflowResult,
    create_workflow,
)
from openharness_actors.testing import (
    assert_causal_chain,
    assert_count,
    assert_no_signal,
    assert_sequence,
    assert_signal,
    causal_chain,
    find_signals,
    format_signals,
)


@attrs.frozen
class State:
    topic: str
    draft: str | None = None
    review: str | None = None


async def run() -> WorkflowResult[State]:
    wf = create_workflow(State)
    writer = wf.agent(
        prompt="Write about {{ state.topic }}",
        activate_on="workflow:start",
        updates="draft",
        emits=["draft:ready"],
    )
    reviewer = wf.agent(
        prompt="Review {{ state.draft }}", activate_on="draft:ready", updates="review"
    )
    return await wf.run_reactive(
        agents={"writer": writer, "reviewer": reviewer},
        state=State(topic="owls"),
        harness=ScriptedHarness({"writer": "owls hoot", "reviewer": "fine"}, chunk_size=4),
    )


async def test_assert_signal_matches_pattern_payload_and_agent() -> None:
    """assert_signal returns the first signal matching the pattern, a partial (nested)
    payload, a predicate and the agent."""
    result = await run()
    signal = assert_signal(result, "state:*:changed", {"key": "draft", "new_value": "owls hoot"})
    assert signal.source.agent == "writer"
    assert assert_signal(result, "text:complete", agent="reviewer").payload == {"content": "fine"}
    assert_signal(result, "workflow:end", {"state": {"review": "fine"}})
    assert_signal(result, "harness:end", {"usage": {"output_tokens": lambda n: n > 0}})
    assert find_signals(result, "text:delta", agent="writer")[0].payload == {"content": "owls"}


async def test_assert_signal_failure_shows_near_misses() -> None:
    """When nothing matches, the message lists the signals with that name and their payloads,
    or, when no name matches, every name in the trace with its count."""
    result = await run()
    with pytest.raises(AssertionError) as caught:
        assert_signal(result, "state:*:changed", {"new_value": "cats"})
    message = str(caught.value)
    assert (
        'expected a signal \'state:*:changed\' with payload containing {"new_value": "cats"}'
        in message
    )
    assert '"new_value": "owls hoot"' in message
    assert "[writer]" in message
    with pytest.raises(AssertionError) as missing:
        assert_signal(result, "tool:**")
    assert "no signal is named like 'tool:**'; the trace has: workflow:start x1" in str(
        missing.value
    )


async def test_assert_count_and_no_signal() -> None:
    """assert_count checks an exact count and assert_no_signal an absence, both showing
    what they found on failure."""
    result = await run()
    assert len(assert_count(result, "agent:activated", 2)) == 2
    assert_count(result, "text:delta", 3, agent="writer")
    assert_no_signal(result, "agent:failed")
    with pytest.raises(
        AssertionError, match=r"expected 3 signal\(s\) 'agent:activated'; found 2:\n  #"
    ):
        assert_count(result, "agent:activated", 3)
    with pytest.raises(
        AssertionError, match=r"expected no signal 'agent:completed' from agent 'reviewer'; found 1"
    ):
        assert_no_signal(result, "agent:completed", agent="reviewer")


async def test_assert_sequence() -> None:
    """assert_sequence finds the steps in order (others may come between) and, when a step
    is missing, says which and shows the signals after the last match."""
    result = await run()
    matched = assert_sequence(
        result,
        "workflow:start",
        ("agent:activated", {"agent": "writer"}),
        "draft:ready",
        ("agent:completed", {"agent": "reviewer"}),
        "workflow:end",
    )
    assert [s.name for s in matched][-1] == "workflow:end"
    with pytest.raises(AssertionError) as caught:
        assert_sequence(result, "draft:ready", ("agent:activated", {"agent": "writer"}))
    message = str(caught.value)
    assert "sequence broken at step 2 of 2" in message
    assert "after #" in message
    assert "(draft:ready)" in message
    assert "matched so far: ['draft:ready']" in message


async def test_causal_chain() -> None:
    """Every signal's chain leads back to workflow:start through the activations that caused
    it; assert_causal_chain checks stops along the way and reports the chain it walked."""
    result = await run()
    chain = assert_causal_chain(
        result,
        "text:complete",
        agent="reviewer",
        through=["agent:activated", "draft:ready", "agent:activated"],
    )
    assert [s.name for s in chain] == [
        "workflow:start",
        "agent:activated",
        "draft:ready",
        "agent:activated",
        "text:complete",
    ]
    with pytest.raises(
        AssertionError, match="does not pass through 'state:draft:changed'"
    ) as caught:
        assert_causal_chain(
            result, "text:complete", agent="reviewer", through=["state:draft:changed"]
        )
    assert "workflow:start" in str(caught.value)
    orphan = Signal(
        "x1", "custom:thing", {}, 0.0, 99, result.run_id, SignalSource(None, None, "gone")
    )
    trace = [*result.signals, orphan]
    assert causal_chain(trace, orphan) == [orphan]
    with pytest.raises(AssertionError, match="its parent 'gone' is not in the trace"):
        assert_causal_chain(trace, "custom:thing")


def test_format_signals_is_bounded() -> None:
    """Long traces and long payloads are shortened in failure messages."""
    signals = [
        Signal(f"s{i}", "text:delta", {"content": "x" * 500}, 0.0, i, "r", SignalSource("a"))
        for i in range(50)
    ]
    text = format_signals(signals)
    assert text.count("\n") == 40
    assert "… and 10 more" in text
    assert all(len(line) < 220 for line in text.splitlines())
