"""Prompt templates: ``{{ path }}`` placeholders over the activation context.

Roots: ``state`` (the snapshot), ``signal`` (the trigger), ``input`` (the initial state); a path
with any other first segment is shorthand for ``state`` (``{{ result }}`` is
``{{ state.result }}``). When a state field is itself called ``state``, ``signal`` or ``input``,
a path starting with that word is ambiguous and refused at definition time: write
``state.input`` for the field. Segments are separated by dots; integer segments index
sequences (``items.0``).

Values render as: strings verbatim; ``None`` as ``null``; numbers and booleans as JSON; lists,
dicts, attrs and dataclass values as compact JSON. A path that names no state field is refused
when the agent is defined; a path that does not resolve when rendering raises
:class:`TemplateError` before any harness call — never an empty string. ``{{`` always opens a
placeholder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from .._errors import TemplateError
from .._json import to_jsonable

__all__ = ["Template", "render_value"]

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_ROOTS = frozenset({"state", "signal", "input"})
_SIGNAL_ATTRS = frozenset(
    {"id", "name", "payload", "timestamp", "seq", "run_id", "source", "agent", "parent"}
)
_MISSING = object()


@attrs.frozen
class _Path:
    root: str
    segments: tuple[str | int, ...]
    text: str


@attrs.frozen
class Template:
    """A compiled template. ``parts`` alternate literal text and paths."""

    source: str
    parts: tuple[str | _Path, ...]

    @classmethod
    def compile(cls, source: str) -> Template:
        """Parse ``source``; raises :class:`TemplateError` on a malformed placeholder."""
        parts: list[str | _Path] = []
        position = 0
        for match in _PLACEHOLDER.finditer(source):
            if match.start() > position:
                parts.append(source[position : match.start()])
            parts.append(_parse_path(match.group(1).strip(), source))
            position = match.end()
        tail = source[position:]
        if "{{" in tail:
            raise TemplateError(f"unclosed '{{{{' in template {source!r}", template=source)
        if tail:
            parts.append(tail)
        return cls(source, tuple(parts))

    @property
    def paths(self) -> tuple[_Path, ...]:
        return tuple(part for part in self.parts if isinstance(part, _Path))

    def check_fields(
        self, fields: frozenset[str] | None, input_fields: frozenset[str] | None
    ) -> list[str]:
        """Problems with paths that name no state (or input) field; empty when all is well."""
        problems = []
        for path in self.paths:
            head_word = path.text.split(".", 1)[0]
            if head_word in _ROOTS and fields is not None and head_word in fields:
                problems.append(
                    f"template path {path.text!r} is ambiguous: {head_word!r} is both a state "
                    f"field and a template root; write 'state.{head_word}' for the field"
                    + ("" if head_word == "state" else f" or '{head_word}.…' for the root")
                )
                continue
            if path.root == "signal":
                head = path.segments[0] if path.segments else None
                if head is not None and head not in _SIGNAL_ATTRS:
                    problems.append(
                        f"template path {path.text!r} names no signal attribute "
                        f"(signals have {', '.join(sorted(_SIGNAL_ATTRS))})"
                    )
                continue
            known = fields if path.root == "state" else input_fields
            if known is None or not path.segments:
                continue
            head = path.segments[0]
            if head not in known:
                problems.append(
                    f"template path {path.text!r} names no state field "
                    f"(fields: {', '.join(sorted(known)) or 'none'})"
                )
        return problems

    def render(self, *, state: Any, signal: Any, input: Any) -> str:
        """Render against an activation context; raises :class:`TemplateError` when a path
        does not resolve."""
        out: list[str] = []
        roots = {"state": state, "signal": signal, "input": input}
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = roots[part.root]
            for segment in part.segments:
                value = _step(value, segment)
                if value is _MISSING:
                    raise TemplateError(
                        f"template path {part.text!r} does not resolve "
                        f"(no {segment!r} in {_describe_at(part, segment)})",
                        template=self.source,
                        path=part.text,
                    )
            out.append(render_value(value))
        return "".join(out)


def _parse_path(text: str, source: str) -> _Path:
    if not text:
        raise TemplateError(
            f"empty placeholder '{{{{ }}}}' in template {source!r}", template=source
        )
    raw = text.split(".")
    for segment in raw:
        if not _SEGMENT.fullmatch(segment):
            raise TemplateError(
                f"invalid path {text!r} in template {source!r}: segment {segment!r} is not a "
                "name or an integer index",
                template=source,
                path=text,
            )
    segments: list[str | int] = [int(s) if s.isdigit() else s for s in raw]
    head = segments[0]
    if head in _ROOTS:
        return _Path(str(head), tuple(segments[1:]), text)
    if isinstance(head, int):
        raise TemplateError(
            f"invalid path {text!r} in template {source!r}: it cannot start with an index",
            template=source,
            path=text,
        )
    return _Path("state", tuple(segments), text)


def _step(value: Any, segment: str | int) -> Any:
    if isinstance(segment, int):
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            return value[segment] if -len(value) <= segment < len(value) else _MISSING
        if isinstance(value, Mapping):
            return value.get(str(segment), _MISSING)
        return _MISSING
    if isinstance(value, Mapping):
        return value.get(segment, _MISSING)
    return getattr(value, segment, _MISSING)


def _describe_at(path: _Path, segment: str | int) -> str:
    index = path.segments.index(segment)
    prefix = ".".join(str(s) for s in path.segments[:index])
    return f"{path.root}.{prefix}" if prefix else path.root


def render_value(value: Any) -> str:
    """How a value appears in a rendered prompt (see the module docstring)."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(to_jsonable(value), separators=(",", ":"), ensure_ascii=False)
