"""The seed's analyzer runs end to end on the scripted harness."""

from __future__ import annotations

import attrs

from openharness_actors import ScriptedHarness, create_workflow


@attrs.frozen
class State:
    input: str
    result: str | None = None


async def test_analyzer_runs_and_terminates() -> None:
    """One agent on workflow:start writes its reply to state and end_when stops the run."""
    wf = create_workflow(State)
    analyzer = wf.agent(
        prompt="Analyze: {{ state.input }}",
        activate_on=["workflow:start"],
        emits=["analysis:complete"],
        updates="result",
    )
    result = await wf.run_reactive(
        agents={"analyzer": analyzer},
        state=State(input="hello"),
        harness=ScriptedHarness({"analyzer": lambda r: r.prompt.upper()}),
        end_when=lambda s: s.result is not None,
        timeout=30,
    )
    assert result.state.result == "ANALYZE: HELLO"
    assert result.terminated_early
    names = [s.name for s in result.signals]
    assert names[0] == "workflow:start" and names[-1] == "workflow:end"
    assert "analysis:complete" in names
