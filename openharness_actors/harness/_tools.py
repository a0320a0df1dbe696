"""Python callables as model tools: their definition (name, description, input schema) and how
a call from the model runs.

The definition comes from the callable itself: ``__name__`` is the tool name, the docstring's
text before its first section the description, its ``Args:``/``Parameters`` section (Google,
NumPy or ``:param x:`` style) the parameter descriptions, and the signature with type hints
the input schema (parameters without a default are required; ``*args``/``**kwargs`` are not
offered).

A call structures each argument into its annotated type with the shared cattrs converter,
then calls the function; sync functions run on the trio thread, so they must be quick (give
blocking work an ``async def`` that uses ``trio.to_thread.run_sync`` itself: only the tool's
author knows whether it is thread-safe). Every ``Exception`` a tool raises, bad input
included, becomes an error result for the model; cancellation passes through. This module
never talks to a model.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from .._json import converter, to_jsonable
from ._schema import json_schema

__all__ = ["ToolOutcome", "ToolSpec", "tool_spec"]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns?|Raises|Yields|Examples?|Notes?)\s*:?\s*$"
)
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_GOOGLE_PARAM = re.compile(r"^(\w+)\s*(?:\([^)]*\))?:\s*(.*)$")
_NUMPY_PARAM = re.compile(r"^(\w+)(?:\s+:\s*.*)?$")


@attrs.frozen
class ToolOutcome:
    """What one tool call produced: ``result`` (JSON-compatible) or ``error`` text."""

    result: Any = None
    error: str | None = None

    @property
    def content(self) -> str:
        """The text sent back to the model."""
        if self.error is not None:
            return self.error
        if isinstance(self.result, str):
            return self.result
        return json.dumps(self.result, ensure_ascii=False)


@attrs.frozen
class ToolSpec:
    """A callable offered to the model as a tool."""

    name: str
    description: str
    input_schema: Mapping[str, Any]
    fn: Callable[..., Any] = attrs.field(eq=False, repr=False)
    annotations: Mapping[str, Any] = attrs.field(eq=False, repr=False)

    def definition(self) -> dict[str, Any]:
        """The tool as the Messages API takes it."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": dict(self.input_schema),
        }

    async def call(self, arguments: Any) -> ToolOutcome:
        """Run the tool with the model's ``arguments``; never raises ``Exception``."""
        if not isinstance(arguments, Mapping):
            return ToolOutcome(error=f"tool {self.name!r} takes a JSON object, not {arguments!r}")
        kwargs: dict[str, Any] = {}
        for key, value in arguments.items():
            if key not in self.annotations:
                return ToolOutcome(error=f"tool {self.name!r} has no parameter {key!r}")
            hint = self.annotations[key]
            try:
                kwargs[key] = value if hint is Any else converter.structure(value, hint)
            except Exception as exc:
                return ToolOutcome(error=f"invalid value for parameter {key!r}: {_describe(exc)}")
        missing = [name for name in self.input_schema.get("required", ()) if name not in kwargs]
        if missing:
            return ToolOutcome(error=f"missing required parameter(s): {', '.join(missing)}")
        try:
            produced = self.fn(**kwargs)
            if inspect.isawaitable(produced):
                produced = await produced
        except Exception as exc:
            return ToolOutcome(error=_describe(exc))
        try:
            return ToolOutcome(result=to_jsonable(produced))
        except TypeError as exc:
            return ToolOutcome(
                error=f"tool {self.name!r} returned a value with no JSON form: {exc}"
            )


def tool_spec(fn: Callable[..., Any]) -> ToolSpec:
    """Describe ``fn`` as a tool.

    Raises :class:`TypeError` when ``fn`` has no usable name (a lambda, a partial) or a
    parameter type has no JSON schema.
    """
    name = getattr(fn, "__name__", None)
    if not isinstance(name, str) or not _NAME.match(name):
        raise TypeError(
            f"tool {fn!r} needs a name matching [a-zA-Z0-9_-]{{1,64}} "
            "(use a def, not a lambda or partial)"
        )
    signature = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise TypeError(f"tool {name!r}: cannot resolve its type hints: {exc}") from exc
    summary, param_docs = _parse_docstring(inspect.getdoc(fn) or "")
    properties: dict[str, Any] = {}
    required: list[str] = []
    annotations: dict[str, Any] = {}
    for parameter in signature.parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise TypeError(
                f"tool {name!r}: positional-only parameter {parameter.name!r} "
                "cannot be given by name"
            )
        hint = hints.get(parameter.name, Any)
        try:
            schema = json_schema(hint)
        except TypeError as exc:
            raise TypeError(f"tool {name!r}, parameter {parameter.name!r}: {exc}") from exc
        if parameter.name in param_docs and "description" not in schema:
            schema["description"] = param_docs[parameter.name]
        properties[parameter.name] = schema
        annotations[parameter.name] = hint
        if parameter.default is parameter.empty:
            required.append(parameter.name)
    input_schema = {"type": "object", "properties": properties, "required": required}
    return ToolSpec(name, summary or name, input_schema, fn, annotations)


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The text before the first section, and the parameter descriptions."""
    lines = doc.splitlines()
    summary: list[str] = []
    for line in lines:
        text = line.strip()
        if _SECTION.match(text) or text.startswith(":"):
            break
        summary.append(text)
    params: dict[str, str] = {}
    in_params = False
    entry_indent: int | None = None
    current: str | None = None
    for line in lines[len(summary) :]:
        text = line.strip()
        indent = len(line) - len(line.lstrip())
        sphinx = _SPHINX_PARAM.match(text)
        if sphinx:
            current = str(sphinx.group(1))
            params[current] = sphinx.group(2).strip()
            continue
        heading = _SECTION.match(text)
        if heading:
            in_params = heading.group(1) in ("Args", "Arguments", "Parameters", "Params")
            entry_indent = current = None
            continue
        if not text or set(text) <= {"-"}:
            continue
        if in_params and (entry_indent is None or indent <= entry_indent):
            entry_indent = indent
            numpy = _NUMPY_PARAM.match(text)
            google = _GOOGLE_PARAM.match(text)
            if numpy:
                current = str(numpy.group(1))
                params.setdefault(current, "")
                continue
            if google:
                current = str(google.group(1))
                params[current] = google.group(2).strip()
                continue
        if current is not None:
            params[current] = f"{params[current]} {text}".strip()
    description = re.sub(r"\n{3,}", "\n\n", "\n".join(summary)).strip()
    return description, {name: text for name, text in params.items() if text}


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
