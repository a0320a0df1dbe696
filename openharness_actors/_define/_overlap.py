"""Whether two signal patterns can match the same name: glob intersection, with a witness.

The flow analysis (``_check``) and the diagrams (``_graph``) ask "can a signal that ``a``
describes wake an agent listening on ``b``?" where both sides may be globs (an ``external``
pattern, a reducer's unknown ``state:*:changed``) or plain names. The answer comes from the
product of the two patterns' automata, searched breadth first, in the one dialect of
``_pattern``: ``*`` is any run of characters without ``:``, ``**`` any run at all.

A compiled :class:`re.Pattern` cannot be intersected with a glob here: against a plain name
it is matched, against another wildcard pattern it is assumed to overlap (callers use the
answer to avoid false alarms, so "maybe" counts as "yes"). This module touches no run.
"""

from __future__ import annotations

from collections import deque

from ._pattern import Pattern, PatternLike, compile_pattern

__all__ = ["overlap", "witness"]

_STAR = "*"
_DOUBLE = "**"
_FILLER = "x"
"""The character a witness uses where any character (or any but ``:``) will do."""


def _tokens(source: str) -> tuple[str, ...]:
    """``"a*:**"`` -> ``("a", "*", ":", "**")``: single characters and the two wildcards."""
    tokens: list[str] = []
    index = 0
    while index < len(source):
        if source.startswith(_DOUBLE, index):
            tokens.append(_DOUBLE)
            index += 2
        elif source[index] == _STAR:
            tokens.append(_STAR)
            index += 1
        else:
            tokens.append(source[index])
            index += 1
    return tuple(tokens)


def _common_char(left: str, right: str) -> str | None:
    """A character both tokens accept, or ``None``."""
    left_wild = left in (_STAR, _DOUBLE)
    right_wild = right in (_STAR, _DOUBLE)
    if not left_wild and not right_wild:
        return left if left == right else None
    if left_wild and right_wild:
        return _FILLER
    literal, wild = (right, left) if left_wild else (left, right)
    if literal == ":" and wild == _STAR:
        return None
    return literal


def _glob_witness(left: tuple[str, ...], right: tuple[str, ...]) -> str | None:
    """The shortest-path witness of the product automaton, or ``None`` when it is empty.

    A state ``(i, j)`` means: ``i`` tokens of ``left`` and ``j`` of ``right`` are behind us.
    A wildcard may be skipped (epsilon) or consume a character and stay.
    """
    start: tuple[int, int] = (0, 0)
    parents: dict[tuple[int, int], tuple[tuple[int, int], str] | None] = {start: None}
    queue: deque[tuple[int, int]] = deque([start])
    end = (len(left), len(right))
    while queue:
        state = queue.popleft()
        if state == end:
            chars: list[str] = []
            step = parents[state]
            while step is not None:
                previous, char = step
                chars.append(char)
                step = parents[previous]
            return "".join(reversed(chars))
        i, j = state
        moves: list[tuple[tuple[int, int], str]] = []
        if i < len(left) and left[i] in (_STAR, _DOUBLE):
            moves.append(((i + 1, j), ""))
        if j < len(right) and right[j] in (_STAR, _DOUBLE):
            moves.append(((i, j + 1), ""))
        if i < len(left) and j < len(right):
            common = _common_char(left[i], right[j])
            if common is not None:
                next_i = i if left[i] in (_STAR, _DOUBLE) else i + 1
                next_j = j if right[j] in (_STAR, _DOUBLE) else j + 1
                moves.append(((next_i, next_j), common))
        for target, char in moves:
            if target not in parents:
                parents[target] = (state, char)
                queue.append(target)
    return None


def witness(a: PatternLike | Pattern, b: PatternLike | Pattern) -> str | None:
    """A name both globs match, or ``None`` when there is none.

    Raises :class:`ValueError` when either is a regex (no witness can be constructed); use
    :func:`overlap` for those.
    """
    left, right = compile_pattern(a), compile_pattern(b)
    if left.kind == "regex" or right.kind == "regex":
        raise ValueError("witness() needs two glob patterns, not a regex")
    return _glob_witness(_tokens(left.source), _tokens(right.source))


def overlap(a: PatternLike | Pattern, b: PatternLike | Pattern) -> bool:
    """Whether some signal name matches both ``a`` and ``b`` (see the module docstring for
    regex patterns, where the answer may be a conservative ``True``)."""
    left, right = compile_pattern(a), compile_pattern(b)
    if left.exact is not None:
        return right.matches(left.exact)
    if right.exact is not None:
        return left.matches(right.exact)
    if left.kind == "regex" or right.kind == "regex":
        return True
    return _glob_witness(_tokens(left.source), _tokens(right.source)) is not None
