"""Record once, replay in CI: this test replays a recording committed in tests/fixtures.

The fixture ``tests/fixtures/recordings/test_fixture_replay.test_review_pipeline.jsonl`` was
made with ``pytest --recording-mode=record``; every ordinary run (``auto``) replays it, so the
harness below is never called. Re-record it the same way after changing the workflow.
"""

from __future__ import annotations

import attrs

from openharness_actors import Recording, ScriptedHarness, create_workflow
from openharness_actors.testing import assert_causal_chain, assert_signal


@attrs.frozen
class Review:
    text: str
    summary: str | None = None
    critique: str | None = None
    verdict: str | None = None


def pipeline() -> tuple[object, dict[str, object]]:
    wf = create_workflow(Review)
    agents = {
        "summarizer": wf.agent(
            prompt="Summarize: {{ state.text }}", activate_on="workflow:start", updates="summary"
        ),
        "critic": wf.agent(
            prompt="Critique: {{ state.text }}", activate_on="workflow:start", updates="critique"
        ),
        "judge": wf.agent(
            prompt="Summary: {{ state.summary }}\nCritique: {{ state.critique }}\nVerdict?",
            activate_on="state:*:changed",
            when=lambda ctx: ctx.state.summary is not None and ctx.state.critique is not None,
            updates="verdict",
            max_concurrency=1,
        ),
    }
    return wf, {"agents": agents, "state": Review(text="Owls are nocturnal birds of prey.")}


async def test_review_pipeline(workflow_recording: Recording) -> None:
    """The committed recording replays the pipeline with no harness call."""
    wf, options = pipeline()
    harness = ScriptedHarness(
        {
            "summarizer": "Owls hunt at night.",
            "critic": "Accurate but brief.",
            "judge": "accept",
        }
    )
    result = await wf.run_reactive(  # type: ignore[attr-defined]
        **options, harness=harness, recording=workflow_recording, end_when=lambda s: s.verdict
    )
    assert result.state.verdict == "accept"
    assert result.recording_id == "test_fixture_replay.test_review_pipeline"
    if workflow_recording.mode != "record":
        assert harness.count() == 0
        assert_signal(result, "harness:end", {"output": "accept"}, agent="judge")
    assert_causal_chain(result, "state:verdict:changed", through=["agent:activated"])
