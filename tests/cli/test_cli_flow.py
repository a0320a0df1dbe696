"""``check`` and ``graph`` on the command line, as real subprocesses."""

from __future__ import annotations

import textwrap
from pathlib import Path

from .cli_helpers import ANALYZE, HELLO, Cli

LOOPY = textwrap.dedent(
    """
    from openharness_actors import create_workflow

    workflow = create_workflow(dict)
    agents = {
        "echo": workflow.agent(prompt="hi", activate_on=["workflow:start", "*:complete"]),
        "orphan": workflow.agent(prompt="hi", activate_on=["never:sent"]),
        "tail": workflow.agent(
            body=lambda ctx: None, activate_on=["workflow:start"], emits=["tail:done"]
        ),
    }
    """
)


async def test_check_clean_workflow_exits_0(cli: Cli) -> None:
    """A workflow without warnings prints nothing on stdout and exits 0."""
    done = await cli("check", ANALYZE)
    assert done.code == 0, done.err
    assert done.out == ""
    assert "2 agent(s), 0 warning(s), 0 finding(s)" in done.err


async def test_check_prints_findings_and_exits_1_on_warnings(cli: Cli, tmp_path: Path) -> None:
    """Self-wake and unreachable are warnings (exit 1); the unconsumed emit is info."""
    path = tmp_path / "loopy.py"
    path.write_text(LOOPY)
    done = await cli("check", f"{path}:workflow")
    assert done.code == 1, done.err
    lines = done.out.splitlines()
    assert [line.split(": ")[:2] for line in lines] == [
        ["warning", "self_wake"],
        ["warning", "unreachable"],
        ["info", "unconsumed"],
    ]
    assert "'text:complete'" in lines[0] and "'echo'" in lines[0]
    assert "'orphan'" in lines[1] and "'never:sent'" in lines[1]
    assert "'tail:done'" in lines[2]
    external = await cli("check", str(path), "--external", "never:*")
    assert [line.split(": ")[1] for line in external.out.splitlines()] == [
        "self_wake",
        "unconsumed",
    ]


async def test_graph_prints_mermaid_and_dot_with_recorded_counts(cli: Cli) -> None:
    """graph prints the flow; --recording writes each agent's activation count into it."""
    recorded = await cli("run", ANALYZE, "--state", HELLO, "--record", "one", "--json", "-q")
    assert recorded.code == 0, recorded.err
    recording = recorded.json()["recording_id"]
    mermaid, dot, counted = await cli.all(
        ("graph", ANALYZE),
        ("graph", ANALYZE, "--format", "dot"),
        ("graph", ANALYZE, "--format", "dot", "--recording", recording, "--store", "default.db"),
    )
    assert mermaid.code == 0, mermaid.err
    assert mermaid.out.splitlines()[:6] == [
        "flowchart LR",
        '    start(["workflow:start"])',
        '    a0["analyzer"]',
        '    a1["summarizer"]',
        '    start -->|"workflow:start"| a0',
        '    a0 -->|"analysis:complete"| a1',
    ]
    assert dot.code == 0, dot.err
    assert '    a0 -> a1 [label="analysis:complete"];' in dot.out.splitlines()
    assert counted.code == 0, counted.err
    assert '    a0 [label="analyzer\\n1 activation", shape=box];' in counted.out.splitlines()
    assert '    a1 [label="summarizer\\n1 activation", shape=box];' in counted.out.splitlines()


async def test_graph_of_missing_recording_is_a_store_error(cli: Cli) -> None:
    """An unknown store exits 5 (store error), like the other commands that read recordings."""
    done = await cli("graph", ANALYZE, "--recording", "rec_x", "--store", "nothing.db")
    assert done.code == 5, done.err
