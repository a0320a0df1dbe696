"""Workflow fingerprints: what a journal remembers of the definition it ran.

A fingerprint is a digest per agent (patterns, emits, ``updates``, prompt and system
templates, model, output type, tool names, the code of guards, bodies and prompt callables,
error policy), one for the reducers and one for the state type. Resuming compares them and
names what changed. Code is compared by bytecode, constants and names, never by addresses,
so the same source gives the same digest in another process.
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._define._agent import AgentSpec
from .._define._pattern import Pattern
from .._define._state import StateModel
from .._define._template import Template

__all__ = ["describe_changes", "fingerprint"]

_SIMPLE = (str, int, float, bool, type(None))


def fingerprint(
    agents: Mapping[str, AgentSpec],
    reducers: Sequence[tuple[Pattern, Callable[..., Any]]],
    state_model: StateModel,
) -> dict[str, Any]:
    """The fingerprint of a run's definition, as JSON data."""
    return {
        "agents": {name: _digest(_describe_agent(spec)) for name, spec in agents.items()},
        "reducers": _digest([(p.kind, p.source, _callable_id(fn)) for p, fn in reducers]),
        "state": _digest([state_model.type_name, sorted(state_model.fields or ())]),
    }


def describe_changes(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Readable differences between two fingerprints (empty when they match)."""
    changes: list[str] = []
    before = recorded.get("agents", {})
    after = current.get("agents", {})
    for name in sorted(set(before) | set(after)):
        if name not in after:
            changes.append(f"agent {name!r} was removed")
        elif name not in before:
            changes.append(f"agent {name!r} was added")
        elif before[name] != after[name]:
            changes.append(f"agent {name!r} changed")
    if recorded.get("reducers") != current.get("reducers"):
        changes.append("the reducers changed")
    if recorded.get("state") != current.get("state"):
        changes.append("the state type changed")
    return changes


def _describe_agent(spec: AgentSpec) -> list[Any]:
    return [
        [
            (p.kind, p.source) if isinstance(p, Pattern) else ("join", str(p))
            for p in spec.activate_on
        ],
        list(spec.emits),
        spec.updates,
        _text_id(spec.prompt),
        _text_id(spec.system),
        spec.model,
        None if spec.output is None else _type_id(spec.output),
        [getattr(tool, "__name__", repr(tool)) for tool in spec.tools],
        _callable_id(spec.when),
        _callable_id(spec.body),
        spec.on_error,
        spec.error_signal,
    ]


def _text_id(source: Any) -> Any:
    if source is None:
        return None
    if isinstance(source, Template):
        return ["template", source.source]
    return _callable_id(source)


def _type_id(value: Any) -> str:
    # The qualified name without the module: a flow file runs as ``__main__`` in one process
    # and is imported under its own name in the next (the CLI, a resume script), and the
    # same definition must give the same fingerprint. What a callable does is in its code
    # digest (see ``_callable_id``).
    return str(getattr(value, "__qualname__", repr(value)))


def _callable_id(fn: Any) -> Any:
    if fn is None:
        return None
    code = getattr(fn, "__code__", None)
    name = _type_id(fn)
    if not isinstance(code, types.CodeType):
        return [name]
    defaults = [
        d if isinstance(d, _SIMPLE) else type(d).__qualname__ for d in fn.__defaults__ or ()
    ]
    return [name, _code_digest(code), defaults]


def _code_digest(code: types.CodeType) -> str:
    hasher = hashlib.sha256(code.co_code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            hasher.update(_code_digest(const).encode())
        elif isinstance(const, (*_SIMPLE, bytes)):
            hasher.update(repr(const).encode())
        else:
            hasher.update(type(const).__qualname__.encode())
    hasher.update(" ".join(code.co_names).encode())
    return hasher.hexdigest()[:16]


def _digest(data: Any) -> str:
    return hashlib.sha256(repr(data).encode()).hexdigest()[:16]
