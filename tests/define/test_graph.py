"""Diagrams: ``workflow.graph`` draws agents and the signals between them, exactly."""

from __future__ import annotations

import pytest

from openharness_actors import WorkflowDefinitionError, create_workflow

wf = create_workflow(dict)
AGENTS = {
    "writer": wf.agent(
        prompt="x", activate_on=["workflow:start"], updates="draft", emits=["draft:done"]
    ),
    "critic": wf.agent(prompt="x", activate_on=["draft:done", "*:complete"], emits=["note"]),
    "human": wf.agent(body=lambda ctx: None, activate_on=["human:reply", "state:total:changed"]),
}
REDUCERS = {"note": lambda state, signal: state}


def test_mermaid_exact() -> None:
    """Mermaid: start, external and reducers drawn apart; edges labelled; a self-loop shown."""
    text = wf.graph(AGENTS, reducers=REDUCERS, external=["human:re*"], activations={"critic": 2})
    assert text == (
        "flowchart LR\n"
        '    start(["workflow:start"])\n'
        '    external[/"external"/]\n'
        '    a0["writer"]\n'
        '    a1["critic<br/>2 activations"]\n'
        '    a2["human"]\n'
        '    reducers[("reducers")]\n'
        '    start -->|"workflow:start"| a0\n'
        '    external -->|"human:re*"| a2\n'
        '    a0 -->|"text:complete, draft:done"| a1\n'
        '    a1 -->|"text:complete"| a1\n'
        '    a1 -->|"note"| reducers\n'
        '    reducers -->|"state:*:changed"| a2\n'
        "    classDef start fill:#eee,stroke:#333\n"
        "    classDef join fill:#ffd,stroke:#aa0\n"
        "    class start,external start\n"
    )


def test_dot_exact() -> None:
    """DOT: the same flow with shapes per kind and escaped labels."""
    text = wf.graph(AGENTS, "dot", reducers=REDUCERS)
    assert text == (
        "digraph workflow {\n"
        "    rankdir=LR;\n"
        '    start [label="workflow:start", shape=oval, style=filled, fillcolor="#eeeeee"];\n'
        '    a0 [label="writer", shape=box];\n'
        '    a1 [label="critic", shape=box];\n'
        '    a2 [label="human", shape=box];\n'
        '    reducers [label="reducers", shape=cylinder];\n'
        '    start -> a0 [label="workflow:start"];\n'
        '    a0 -> a1 [label="text:complete, draft:done"];\n'
        '    a1 -> a1 [label="text:complete"];\n'
        '    a1 -> reducers [label="note"];\n'
        '    reducers -> a2 [label="state:*:changed"];\n'
        "}\n"
    )


def test_unknown_format_is_a_definition_error() -> None:
    """Only mermaid and dot are drawn; anything else is refused by name."""
    with pytest.raises(WorkflowDefinitionError, match="'svg'"):
        wf.graph(AGENTS, "svg")  # type: ignore[arg-type]


def test_joins_are_diamonds_in_both_formats() -> None:
    """A join is its own node, fed by the signals it waits for, pointing at its agent."""
    from openharness_actors import all_of

    agents = {
        "a": wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["a:done"]),
        "b": wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["b:done"]),
        "j": wf.agent(body=lambda ctx: None, activate_on=[all_of("a:done", "b:done")]),
    }
    assert wf.graph(agents).splitlines()[5:13] == [
        "    j2_0{\"all_of('a:done', 'b:done')\"}",
        '    start -->|"workflow:start"| a0',
        '    start -->|"workflow:start"| a1',
        '    a0 -->|"a:done"| j2_0',
        '    a1 -->|"b:done"| j2_0',
        "    j2_0 --> a2",
        "    classDef start fill:#eee,stroke:#333",
        "    classDef join fill:#ffd,stroke:#aa0",
    ]
    assert wf.graph(agents).splitlines()[-1] == "    class j2_0 join"
    dot = wf.graph(agents, "dot").splitlines()
    assert (
        "    j2_0 [label=\"all_of('a:done', 'b:done')\", shape=diamond, style=filled, "
        'fillcolor="#ffffdd"];'
    ) in dot
    assert "    j2_0 -> a2;" in dot
