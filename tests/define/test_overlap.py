"""Glob intersection: whether two patterns of the one dialect can match the same name."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings, strategies as st

from openharness_actors import compile_pattern
from openharness_actors._define._overlap import overlap, witness

# Small alphabets make collisions (and near misses around ':') likely.
segment = st.text(alphabet="ab*", min_size=1, max_size=4).filter(lambda s: "***" not in s)
glob = st.lists(segment, min_size=1, max_size=3).map(":".join)
name = st.text(alphabet="ab:x", max_size=8)


@settings(max_examples=200, deadline=None)
@given(glob, glob)
def test_witness_matches_both_patterns(a: str, b: str) -> None:
    """Any witness returned is a name both globs match."""
    found = witness(a, b)
    if found is not None:
        assert compile_pattern(a).matches(found)
        assert compile_pattern(b).matches(found)


@settings(max_examples=200, deadline=None)
@given(glob, glob, st.lists(name, max_size=20))
def test_no_witness_means_no_common_name(a: str, b: str, names: list[str]) -> None:
    """When a name matches both globs, intersection finds a witness (no false negatives)."""
    pa, pb = compile_pattern(a), compile_pattern(b)
    for candidate in names:
        if pa.matches(candidate) and pb.matches(candidate):
            assert witness(a, b) is not None
            assert overlap(a, b)


@st.composite
def glob_and_instance(draw: st.DrawFn) -> tuple[str, str]:
    """A glob and a name it matches (its wildcards filled in at random)."""
    source = draw(glob)
    parts = re.split(r"(\*\*|\*)", source)
    filled = "".join(
        draw(st.text(alphabet="ab:x", max_size=3))
        if part == "**"
        else draw(st.text(alphabet="abx", max_size=3))
        if part == "*"
        else part
        for part in parts
    )
    return source, filled


@settings(max_examples=300, deadline=None)
@given(glob_and_instance(), glob)
def test_instances_of_one_glob_matching_another_imply_overlap(
    instance: tuple[str, str], b: str
) -> None:
    """A name made from glob a that glob b matches proves they overlap: overlap says so."""
    a, made = instance
    assert compile_pattern(a).matches(made)
    if compile_pattern(b).matches(made):
        assert overlap(a, b)
        assert overlap(b, a)


@settings(max_examples=200, deadline=None)
@given(glob, name)
def test_exact_names_are_matched_not_intersected(a: str, other: str) -> None:
    """Against an exact name, overlap is the pattern's own matching."""
    if "*" in other or not other or "::" in other or other.startswith(":") or other.endswith(":"):
        return
    assert overlap(a, other) == compile_pattern(a).matches(other)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("*:complete", "text:complete", True),
        ("*:complete", "a:b:complete", False),
        ("state:*:changed", "state:**", True),
        ("state:*:changed", "state:a:b:changed", False),
        ("review:*", "*:done", True),
        ("a*", "*b", True),
        ("a:*", "b:**", False),
        ("**", "x", True),
        ("*", "a:b", False),
    ],
)
def test_known_pairs(a: str, b: str, expected: bool) -> None:
    """Hand-checked pairs, including segment boundaries that '*' must not cross."""
    assert overlap(a, b) is expected
    assert overlap(b, a) is expected


def test_regex_against_glob_is_conservative() -> None:
    """A regex is matched against names, and assumed to overlap any wildcard pattern."""
    assert overlap(re.compile(r"review:\d+"), "review:12")
    assert not overlap(re.compile(r"review:\d+"), "review:x")
    assert overlap(re.compile(r"review:\d+"), "nothing:*")
    with pytest.raises(ValueError, match="regex"):
        witness(re.compile("a"), "a*")


@settings(max_examples=200, deadline=None)
@given(st.lists(glob, max_size=8), st.lists(name, max_size=8))
def test_wildcard_index_finds_exactly_the_matching_patterns(
    patterns: list[str], names: list[str]
) -> None:
    """The check's index of wildcard listeners (by literal first/last segment) finds the
    same patterns as trying each one."""
    from openharness_actors._define._check import _WildIndex

    index: _WildIndex[int] = _WildIndex()
    compiled = [compile_pattern(p) for p in patterns]
    for number, pattern in enumerate(compiled):
        if pattern.exact is None:
            index.add(pattern, number)
    for candidate in names:
        expected = [i for i, p in enumerate(compiled) if p.exact is None and p.matches(candidate)]
        assert sorted(index.matching(candidate)) == expected
