"""The one pattern dialect: exact, '*' one segment, '**' anything, compiled regex."""

from __future__ import annotations

import re

import pytest

from openharness_actors import WorkflowDefinitionError, compile_pattern, matches


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("workflow:start", "workflow:start", True),
        ("workflow:start", "workflow:starts", False),
        ("state:*:changed", "state:result:changed", True),
        ("state:*:changed", "state:a:b:changed", False),
        ("state:*:changed", "state::changed", True),  # "*" may be empty
        ("harness:**", "harness:start", True),
        ("harness:**", "harness:a:b:c", True),
        ("harness:**", "harnesses:start", False),
        ("*:complete", "analysis:complete", True),
        ("*:complete", "a:b:complete", False),
        ("**", "anything:at:all", True),
        ("text:*", "text:delta", True),
        ("text:*", "text", False),
        ("tool*", "tool", True),
        ("tool*", "tools", True),
        ("tool*", "tool:call", False),
        ("a.b", "a.b", True),
        ("a.b", "axb", False),
    ],
)
def test_glob_matching(pattern: str, name: str, expected: bool) -> None:
    """Each glob pattern matches exactly the names DESIGN §3 says it does."""
    assert matches(pattern, name) is expected


def test_regex_must_match_whole_name() -> None:
    """A compiled re.Pattern matches with fullmatch semantics."""
    assert matches(re.compile(r"text:(delta|complete)"), "text:delta")
    assert not matches(re.compile(r"text"), "text:delta")


@pytest.mark.parametrize("bad", ["", "a::b", ":a", "a:", "a:***", "has space", "a:b!", "*** "])
def test_invalid_patterns_are_refused(bad: str) -> None:
    """Malformed patterns raise a definition error naming the pattern."""
    with pytest.raises(WorkflowDefinitionError, match="invalid signal pattern"):
        compile_pattern(bad)


def test_non_string_pattern_refused() -> None:
    """A pattern that is neither str nor re.Pattern is refused clearly."""
    with pytest.raises(WorkflowDefinitionError, match="must be a str"):
        compile_pattern(42)  # type: ignore[arg-type]


def test_compiled_once() -> None:
    """Compiling the same glob twice returns the cached object."""
    assert compile_pattern("a:*") is compile_pattern("a:*")
