"""Tools and schemas for the Anthropic harness: JSON Schema of types, tool definitions and calls."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Annotated, Any, Literal, TypedDict

import attrs
import pytest

from openharness_actors.harness._schema import json_schema
from openharness_actors.harness._tools import ToolOutcome, tool_spec


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Point:
    """A point in the plane.

    More detail that is not part of the description.
    """

    x: float
    y: float = 0.0


@dataclasses.dataclass(frozen=True)
class Box:
    corners: tuple[Point, Point]
    label: str | None = None


class Movie(TypedDict):
    title: str
    year: int


@attrs.frozen
class Node:
    children: list[Node]


def test_scalars_and_containers() -> None:
    """Scalars, lists, sets, tuples, mappings, literals, enums and optionals map to JSON Schema."""
    assert json_schema(str) == {"type": "string"}
    assert json_schema(bool) == {"type": "boolean"}
    assert json_schema(int) == {"type": "integer"}
    assert json_schema(float) == {"type": "number"}
    assert json_schema(Any) == {}
    assert json_schema(list[int]) == {"type": "array", "items": {"type": "integer"}}
    assert json_schema(frozenset[str]) == {
        "type": "array",
        "items": {"type": "string"},
        "uniqueItems": True,
    }
    assert json_schema(tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}
    assert json_schema(tuple[int, str])["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert json_schema(dict[str, float]) == {
        "type": "object",
        "additionalProperties": {"type": "number"},
    }
    assert json_schema(Literal["a", "b"]) == {"enum": ["a", "b"], "type": "string"}
    assert json_schema(Color) == {"enum": ["red", "blue"], "type": "string"}
    assert json_schema(int | None) == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert json_schema(datetime.datetime) == {"type": "string", "format": "date-time"}
    assert json_schema(Annotated[int, "how many"]) == {"type": "integer", "description": "how many"}


def test_classes_become_closed_objects() -> None:
    """attrs classes, dataclasses and TypedDicts become objects listing required fields."""
    assert json_schema(Point) == {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x"],
        "additionalProperties": False,
        "description": "A point in the plane.",
    }
    box = json_schema(Box)
    assert box["required"] == ["corners"]
    assert "description" not in box
    assert box["properties"]["corners"]["prefixItems"][0]["properties"]["x"] == {"type": "number"}
    assert json_schema(Movie)["required"] == ["title", "year"]


def test_types_without_a_json_form_are_refused() -> None:
    """Recursive classes, non-string mapping keys and arbitrary classes raise TypeError."""
    with pytest.raises(TypeError, match="contains itself"):
        json_schema(Node)
    with pytest.raises(TypeError, match="str keys"):
        json_schema(dict[int, str])
    with pytest.raises(TypeError, match="no JSON schema"):
        json_schema(complex)


def search(query: str, limit: int = 10, *, colors: list[Color] | None = None) -> list[str]:
    """Search the catalogue.

    Results are sorted by relevance.

    Args:
        query: What to look for.
        limit (int): How many results
            to return at most.
        colors: Only these colors.

    Returns:
        Matching titles.
    """
    return [query] * min(limit, 2)


def test_tool_definition_from_signature_and_docstring() -> None:
    """Name, description, parameter docs, types and required parameters come from the callable."""
    definition = tool_spec(search).definition()
    assert definition["name"] == "search"
    assert definition["description"] == "Search the catalogue.\n\nResults are sorted by relevance."
    schema = definition["input_schema"]
    assert schema["required"] == ["query"]
    assert schema["properties"]["query"] == {"type": "string", "description": "What to look for."}
    assert schema["properties"]["limit"]["description"] == "How many results to return at most."
    assert schema["properties"]["colors"]["anyOf"][0]["items"]["enum"] == ["red", "blue"]


def numpy_style(a: int, b: str) -> None:
    """Numpy style.

    Parameters
    ----------
    a : int
        The first.
    b : str
        The second.
    """


def sphinx_style(a: int) -> None:
    """Sphinx style.

    :param a: The only one.
    """


def test_numpy_and_sphinx_docstrings() -> None:
    """NumPy and Sphinx parameter sections are understood too."""
    numpy = tool_spec(numpy_style).definition()["input_schema"]["properties"]
    assert numpy["a"]["description"] == "The first."
    assert numpy["b"]["description"] == "The second."
    sphinx = tool_spec(sphinx_style).definition()
    assert sphinx["description"] == "Sphinx style."
    assert sphinx["input_schema"]["properties"]["a"]["description"] == "The only one."


def test_unusable_callables_are_refused() -> None:
    """Lambdas and parameters without a JSON form cannot be tools."""
    with pytest.raises(TypeError, match="name"):
        tool_spec(lambda x: x)

    def takes_complex(z: complex) -> None:
        """Nope."""

    with pytest.raises(TypeError, match="parameter 'z'"):
        tool_spec(takes_complex)


async def test_tool_call_structures_arguments() -> None:
    """Arguments are structured into their annotated types before the call."""
    seen: list[Any] = []

    async def place(point: Point, color: Color = Color.RED) -> dict[str, Any]:
        """Place a point."""
        seen.append((point, color))
        return {"placed": True}

    outcome = await tool_spec(place).call({"point": {"x": 1, "y": 2}, "color": "blue"})
    assert outcome.error is None
    assert outcome.result == {"placed": True}
    assert outcome.content == '{"placed": true}'
    assert seen == [(Point(1.0, 2.0), Color.BLUE)]


def error_of(outcome: ToolOutcome) -> str:
    assert outcome.error is not None
    return outcome.error


async def test_tool_call_problems_become_error_outcomes() -> None:
    """Unknown or missing parameters, bad values, exceptions and odd results are errors."""
    spec = tool_spec(search)
    assert "no parameter 'nope'" in error_of(await spec.call({"query": "a", "nope": 1}))
    assert "missing required parameter(s): query" in error_of(await spec.call({}))
    assert "parameter 'limit'" in error_of(await spec.call({"query": "a", "limit": "many"}))
    assert "JSON object" in error_of(await spec.call(["a"]))

    def broken() -> object:
        """Returns something odd."""
        return object()

    assert "no JSON form" in error_of(await tool_spec(broken).call({}))

    def failing() -> None:
        """Fails."""
        raise KeyError("gone")

    failed = await tool_spec(failing).call({})
    assert failed.error == "KeyError: 'gone'"
    assert failed.content == "KeyError: 'gone'"
