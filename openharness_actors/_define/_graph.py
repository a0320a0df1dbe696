"""Diagrams of the declared flow: Mermaid or Graphviz DOT text, right by construction.

Nodes: ``workflow:start`` (a rounded, filled node), ``external`` (when patterns are given),
``reducers`` (when any), one box per agent and one diamond per join (``all_of``), which its
agent hangs off. An edge ``P -> C`` is labelled with the signals ``P`` produces that wake
``C``: declared emits, ``state:<key>:changed``, and the built-ins of ``_flow`` (so a
self-waking agent gets a loop labelled, say, ``text:complete``). Failure-path built-ins
(``agent:failed``, ``harness:error``, ...) are left out to keep the picture readable; an
agent's ``error_signal`` is drawn. ``activations`` (agent -> count, e.g. from a recording)
is written into the agent boxes. Output is deterministic: definition order throughout.
This module renders text only; it runs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import attrs

from .._errors import WorkflowDefinitionError
from ._flow import START, Entry, Flow, wakes
from ._overlap import overlap
from ._pattern import Pattern, compile_pattern

__all__ = ["FORMATS", "render_graph"]

FORMATS = ("mermaid", "dot")


@attrs.frozen
class _Node:
    id: str
    label: str
    kind: str  # "start", "external", "reducers", "agent", "join"


@attrs.frozen
class _Producer:
    node: str
    names: tuple[Pattern, ...]
    """What it produces: exact names, or (for ``external``) patterns."""


def render_graph(
    flow: Flow, format: str = "mermaid", activations: Mapping[str, int] | None = None
) -> str:
    """The diagram of ``flow`` as ``format`` text (``"mermaid"`` or ``"dot"``)."""
    if format not in FORMATS:
        raise WorkflowDefinitionError(
            f"graph format must be one of {', '.join(FORMATS)}, not {format!r}"
        )
    nodes, edges = _layout(flow, activations or {})
    return (_mermaid if format == "mermaid" else _dot)(nodes, edges)


def _layout(
    flow: Flow, activations: Mapping[str, int]
) -> tuple[list[_Node], list[tuple[str, str, str]]]:
    nodes = [_Node("start", START, "start")]
    producers = [_Producer("start", (compile_pattern(START),))]
    if flow.external:
        nodes.append(_Node("external", "external", "external"))
        producers.append(_Producer("external", flow.external))
    for index, agent in enumerate(flow.agents):
        count = activations.get(agent.name)
        label = agent.name if count is None else f"{agent.name}\n{_times(count)}"
        nodes.append(_Node(f"a{index}", label, "agent"))
        drawn = [*agent.certain, *(n for n in agent.possible if n not in _BUILTIN_POSSIBLE)]
        producers.append(_Producer(f"a{index}", tuple(compile_pattern(n) for n in drawn)))
    if flow.reducers:
        nodes.append(_Node("reducers", "reducers", "reducers"))
        producers.append(_Producer("reducers", flow.state_changes))

    edges: list[tuple[str, str, str]] = []
    consumers: list[tuple[str, tuple[Pattern, ...]]] = []
    for index, agent in enumerate(flow.agents):
        plain = tuple(e.patterns[0] for e in agent.entries if e.join is None)
        if plain:
            consumers.append((f"a{index}", plain))
        for position, entry in enumerate(agent.entries):
            if entry.join is not None:
                join_id = f"j{index}_{position}"
                nodes.append(_Node(join_id, _join_label(entry), "join"))
                consumers.append((join_id, entry.patterns))
                edges.append((join_id, f"a{index}", ""))
    if flow.reducers:
        consumers.append(("reducers", flow.reducers))
    wiring: list[tuple[str, str, str]] = []
    for producer in producers:
        for consumer, patterns in consumers:
            labels = [
                produced.source
                for produced in producer.names
                if any(_connects(produced, pattern) for pattern in patterns)
            ]
            if labels:
                wiring.append((producer.node, consumer, ", ".join(dict.fromkeys(labels))))
    return nodes, wiring + edges


_BUILTIN_POSSIBLE = frozenset(
    {
        "agent:failed",
        "agent:retry",
        "agent:cancelled",
        "agent:restarted",
        "harness:error",
        "harness:retry",
        "thinking:delta",
        "thinking:complete",
    }
)


def _connects(produced: Pattern, listener: Pattern) -> bool:
    if produced.exact is not None:
        return wakes(listener, produced.exact)
    return overlap(produced, listener)


def _join_label(entry: Entry) -> str:
    assert entry.join is not None
    return str(entry.join)


def _times(count: int) -> str:
    return f"{count} activation{'' if count == 1 else 's'}"


# -- Mermaid ----------------------------------------------------------------------------

_MERMAID_SHAPES: dict[str, Callable[[str], str]] = {
    "start": lambda text: f'(["{text}"])',
    "external": lambda text: f'[/"{text}"/]',
    "reducers": lambda text: f'[("{text}")]',
    "agent": lambda text: f'["{text}"]',
    "join": lambda text: f'{{"{text}"}}',
}


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;").replace("\n", "<br/>")


def _mermaid(nodes: Sequence[_Node], edges: Sequence[tuple[str, str, str]]) -> str:
    lines = ["flowchart LR"]
    for node in nodes:
        lines.append(f"    {node.id}{_MERMAID_SHAPES[node.kind](_mermaid_text(node.label))}")
    for source, target, label in edges:
        arrow = f'-->|"{_mermaid_text(label)}"|' if label else "-->"
        lines.append(f"    {source} {arrow} {target}")
    lines.extend(
        [
            "    classDef start fill:#eee,stroke:#333",
            "    classDef join fill:#ffd,stroke:#aa0",
        ]
    )
    start = [n.id for n in nodes if n.kind in ("start", "external")]
    joins = [n.id for n in nodes if n.kind == "join"]
    lines.append(f"    class {','.join(start)} start")
    if joins:
        lines.append(f"    class {','.join(joins)} join")
    return "\n".join(lines) + "\n"


# -- DOT --------------------------------------------------------------------------------

_DOT_SHAPES = {
    "start": 'shape=oval, style=filled, fillcolor="#eeeeee"',
    "external": 'shape=parallelogram, style=filled, fillcolor="#eeeeee"',
    "reducers": "shape=cylinder",
    "agent": "shape=box",
    "join": 'shape=diamond, style=filled, fillcolor="#ffffdd"',
}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _dot(nodes: Sequence[_Node], edges: Sequence[tuple[str, str, str]]) -> str:
    lines = ["digraph workflow {", "    rankdir=LR;"]
    for node in nodes:
        lines.append(f'    {node.id} [label="{_dot_text(node.label)}", {_DOT_SHAPES[node.kind]}];')
    for source, target, label in edges:
        attributes = f' [label="{_dot_text(label)}"]' if label else ""
        lines.append(f"    {source} -> {target}{attributes};")
    lines.append("}")
    return "\n".join(lines) + "\n"
