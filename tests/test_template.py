"""Templates: paths over state, signal and input, rendered by clear rules."""

from __future__ import annotations

import dataclasses

import attrs
import pytest

from openharness_actors import Signal, SignalSource, TemplateError
from openharness_actors._define._state import FrozenState
from openharness_actors._define._template import Template


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


@attrs.frozen
class State:
    text: str = "hi"
    items: tuple[str, ...] = ("a", "b")
    count: int = 3
    ratio: float = 0.5
    flag: bool = True
    nothing: None = None
    point: Point = Point(1, 2)
    mapping: dict[str, int] = attrs.field(factory=lambda: {"k": 1})


SIGNAL = Signal(
    "sig_1",
    "review:done",
    {"a": {"b": [10, 20]}, "who": "x"},
    0.0,
    4,
    "run",
    SignalSource("r", None, None),
)


def render(source: str, state: object = None) -> str:
    state = State() if state is None else state
    return Template.compile(source).render(state=state, signal=SIGNAL, input=state)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ state.text }}", "hi"),
        ("{{text}}", "hi"),
        ("{{ items.1 }}", "b"),
        ("{{ items }}", '["a","b"]'),
        ("{{ count }}", "3"),
        ("{{ ratio }}", "0.5"),
        ("{{ flag }}", "true"),
        ("{{ nothing }}", "null"),
        ("{{ point }}", '{"x":1,"y":2}'),
        ("{{ point.y }}", "2"),
        ("{{ mapping.k }}", "1"),
        ("{{ signal.name }}", "review:done"),
        ("{{ signal.payload.a.b.0 }}", "10"),
        ("{{ signal.payload.who }}", "x"),
        ("{{ signal.source.agent }}", "r"),
        ("{{ input.text }}!", "hi!"),
        ("a {{ text }} b {{ count }} c", "a hi b 3 c"),
    ],
)
def test_rendering_rules(source: str, expected: str) -> None:
    """Strings verbatim, None as null, scalars as JSON, containers as compact JSON."""
    assert render(source) == expected


def test_dict_state_paths() -> None:
    """Mapping snapshots resolve keys the same way as attributes."""
    state = FrozenState({"q": {"deep": ["x"]}})
    assert Template.compile("{{ q.deep.0 }}").render(state=state, signal=SIGNAL, input=state) == "x"


@pytest.mark.parametrize(
    "source", ["{{ items.5 }}", "{{ point.z }}", "{{ signal.payload.missing }}", "{{ text.0 }}"]
)
def test_unresolved_path_is_an_error(source: str) -> None:
    """A path that does not resolve raises TemplateError naming it, never renders empty."""
    with pytest.raises(TemplateError, match="does not resolve") as info:
        render(source)
    assert info.value.path is not None and info.value.path in source


@pytest.mark.parametrize("source", ["{{ }}", "{{ a b }}", "{{ a..b }}", "open {{ x", "{{ 0.a }}"])
def test_malformed_templates(source: str) -> None:
    """Syntax errors are reported at compile time."""
    with pytest.raises(TemplateError):
        Template.compile(source)


def test_check_fields_names_unknown_field() -> None:
    """Definition-time checking names the path and lists the known fields."""
    problems = Template.compile("{{ state.nope }} {{ input.text }}").check_fields(
        frozenset({"text"}), frozenset({"text"})
    )
    assert len(problems) == 1
    assert "'state.nope'" in problems[0] and "fields: text" in problems[0]


def test_check_fields_signal_attribute() -> None:
    """Unknown signal attributes are caught at definition time too."""
    problems = Template.compile("{{ signal.nme }}").check_fields(None, None)
    assert problems and "signal attribute" in problems[0]
