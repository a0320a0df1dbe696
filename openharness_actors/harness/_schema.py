"""JSON Schema for Python types: what a model is told a tool's input or a reply must look like.

Covers what :data:`openharness_actors._json.converter` structures: scalars, ``None``,
``Literal``, enums, ``Optional``/unions, lists, sets, tuples, mappings with string keys, attrs
classes, dataclasses, ``TypedDict``, ``datetime``/``date`` and ``Any``. ``Annotated[T, "text"]``
adds ``"text"`` as the description. Classes are inlined (no ``$defs``); a class that contains
itself is refused. This module only computes schemas; it never calls a model.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import datetime
import enum
import types
import typing
from typing import Any

import attrs

__all__ = ["json_schema"]

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    type(None): {"type": "null"},
    None: {"type": "null"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
}
_SEQUENCES = {
    list,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Iterable,
    collections.abc.Collection,
}
_SETS = {set, frozenset, collections.abc.Set, collections.abc.MutableSet}
_MAPPINGS = {dict, collections.abc.Mapping, collections.abc.MutableMapping}


def json_schema(tp: Any) -> dict[str, Any]:
    """The JSON Schema of values of type ``tp``.

    Raises :class:`TypeError` naming the type when it has no JSON form (or is recursive).
    """
    return _schema(tp, ())


def _schema(tp: Any, seen: tuple[Any, ...]) -> dict[str, Any]:
    if tp is Any or tp is object:
        return {}
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        schema = _schema(args[0], seen)
        notes = [note for note in args[1:] if isinstance(note, str)]
        if notes:
            schema["description"] = " ".join(notes)
        return schema
    if origin is typing.Literal:
        return _enum(list(args))
    if origin is typing.Union or origin is types.UnionType:
        options = [_schema(arg, seen) for arg in args]
        return {"anyOf": options}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum([member.value for member in tp])
    if tp in _SEQUENCES or origin in _SEQUENCES:
        return {"type": "array", "items": _schema(args[0], seen) if args else {}}
    if tp in _SETS or origin in _SETS:
        return {
            "type": "array",
            "items": _schema(args[0], seen) if args else {},
            "uniqueItems": True,
        }
    if tp is tuple or origin is tuple:
        return _tuple(args, seen)
    if tp in _MAPPINGS or origin in _MAPPINGS:
        if args and args[0] is not str:
            raise TypeError(f"{tp!r}: only mappings with str keys have a JSON form")
        return {"type": "object", "additionalProperties": _schema(args[1], seen) if args else {}}
    if isinstance(tp, type) and (
        attrs.has(tp) or dataclasses.is_dataclass(tp) or typing.is_typeddict(tp)
    ):
        if tp in seen:
            raise TypeError(f"{tp.__qualname__} contains itself; recursive types are not supported")
        return _object(tp, (*seen, tp))
    raise TypeError(f"no JSON schema for {tp!r}")


def _enum(values: list[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"enum": values}
    kinds = {type(value) for value in values}
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind in _SCALARS:
            schema["type"] = _SCALARS[kind]["type"]
    return schema


def _tuple(args: tuple[Any, ...], seen: tuple[Any, ...]) -> dict[str, Any]:
    if not args:
        return {"type": "array"}
    if len(args) == 2 and args[1] is Ellipsis:
        return {"type": "array", "items": _schema(args[0], seen)}
    return {
        "type": "array",
        "prefixItems": [_schema(arg, seen) for arg in args],
        "minItems": len(args),
        "maxItems": len(args),
    }


def _object(cls: type, seen: tuple[Any, ...]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, include_extras=True)
    if typing.is_typeddict(cls):
        names = list(hints)
        required = [name for name in names if name in getattr(cls, "__required_keys__", names)]
    elif attrs.has(cls):
        fields = [field for field in attrs.fields(cls) if field.init]
        names = [field.name for field in fields]
        required = [field.name for field in fields if field.default is attrs.NOTHING]
    else:
        data_fields = [field for field in dataclasses.fields(cls) if field.init]
        names = [field.name for field in data_fields]
        required = [
            field.name
            for field in data_fields
            if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        ]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: _schema(hints.get(name, Any), seen) for name in names},
        "required": required,
        "additionalProperties": False,
    }
    doc = _class_doc(cls)
    if doc:
        schema["description"] = doc
    return schema


def _class_doc(cls: type) -> str:
    doc = cls.__doc__ or ""
    if not doc or (dataclasses.is_dataclass(cls) and doc.startswith(cls.__name__ + "(")):
        return ""
    return doc.strip().split("\n\n", 1)[0].strip()
