"""State types: what a workflow's state may be, and how snapshots are read and replaced.

A workflow's state is an immutable value. Supported types:

* a frozen attrs class (preferred) — replaced with ``attrs.evolve``;
* a frozen dataclass — replaced with ``dataclasses.replace``;
* a ``TypedDict`` or plain ``dict`` — held as a :class:`FrozenState`, a read-only mapping that
  also allows attribute access (``s.result``) and is replaced in O(log n) (a HAMT), so a state
  with thousands of keys costs no copy per update.

Mutable attrs classes and dataclasses are refused: a snapshot handed to an agent must not change
under it. This module only describes state; the state actor is the one that writes it.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import immutables

from .._errors import WorkflowDefinitionError
from .._json import converter, to_jsonable

__all__ = ["FrozenState", "StateModel"]


class FrozenState(Mapping[str, Any]):
    """A read-only mapping snapshot of a dict-typed state; keys are also attributes.

    ``s["result"]`` and ``s.result`` read the same value. Equal to any mapping with the same
    items. Use :meth:`set` (which returns a new snapshot) in reducers.
    """

    __slots__ = ("_map",)

    _map: immutables.Map[str, Any]

    def __init__(self, items: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_map", immutables.Map(items or {}))

    @classmethod
    def _wrap(cls, hamt: immutables.Map[str, Any]) -> FrozenState:
        snapshot = cls.__new__(cls)
        object.__setattr__(snapshot, "_map", hamt)
        return snapshot

    def set(self, key: str, value: Any) -> FrozenState:
        """A new snapshot with ``key`` set to ``value``."""
        return FrozenState._wrap(self._map.set(key, value))

    def update(self, *args: Mapping[str, Any], **changes: Any) -> FrozenState:
        """A new snapshot with several keys set."""
        hamt = self._map
        with hamt.mutate() as mutation:
            for mapping in (*args, changes):
                for key, value in mapping.items():
                    mutation[key] = value
            hamt = mutation.finish()
        return FrozenState._wrap(hamt)

    def __getitem__(self, key: str) -> Any:
        return self._map[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._map[key]
        except KeyError:
            raise AttributeError(f"state has no key {key!r}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("state snapshots are read-only; return a new state instead")

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key: object) -> bool:
        return key in self._map

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FrozenState):
            return self._map == other._map
        if isinstance(other, Mapping):
            return dict(self._map.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FrozenState({dict(self._map.items())!r})"

    def to_dict(self) -> dict[str, Any]:
        """A plain (shallow) dict copy."""
        return dict(self._map.items())


converter.register_unstructure_hook(
    FrozenState, lambda state: {k: converter.unstructure(v) for k, v in state.items()}
)


@attrs.frozen
class StateModel:
    """How to read, replace and validate states of one type.

    ``fields`` is the set of top-level keys, or ``None`` for a plain ``dict`` type whose keys
    are only known from the initial state.
    """

    state_type: Any
    kind: str  # "attrs" | "dataclass" | "mapping"
    fields: frozenset[str] | None

    @classmethod
    def of(cls, state_type: Any) -> StateModel:
        """Describe ``state_type``; raises :class:`WorkflowDefinitionError` for unsupported
        or mutable types."""
        name = getattr(state_type, "__name__", repr(state_type))
        if isinstance(state_type, type) and attrs.has(state_type):
            if getattr(state_type.__setattr__, "__name__", "") != "_frozen_setattrs":
                raise WorkflowDefinitionError(
                    f"state type {name} is a mutable attrs class; declare it with "
                    "@attrs.frozen (or @attrs.define(frozen=True)) so a snapshot cannot change "
                    "under an agent"
                )
            return cls(state_type, "attrs", frozenset(a.name for a in attrs.fields(state_type)))
        if isinstance(state_type, type) and dataclasses.is_dataclass(state_type):
            if not state_type.__dataclass_params__.frozen:  # type: ignore[attr-defined]
                raise WorkflowDefinitionError(
                    f"state type {name} is a mutable dataclass; declare it with "
                    "@dataclass(frozen=True) so a snapshot cannot change under an agent"
                )
            return cls(
                state_type, "dataclass", frozenset(f.name for f in dataclasses.fields(state_type))
            )
        if typing.is_typeddict(state_type):
            keys = state_type.__required_keys__ | state_type.__optional_keys__
            return cls(state_type, "mapping", frozenset(keys))
        if state_type is dict or typing.get_origin(state_type) is dict:
            return cls(state_type, "mapping", None)
        raise WorkflowDefinitionError(
            f"unsupported state type {name}: use a frozen attrs class, a frozen dataclass, "
            "a TypedDict or dict"
        )

    @property
    def type_name(self) -> str:
        return getattr(self.state_type, "__name__", repr(self.state_type))

    def coerce(self, state: Any) -> Any:
        """Check an initial state and return the snapshot to run with.

        Raises :class:`WorkflowDefinitionError` when ``state`` is not of this model's type.
        """
        if self.kind == "mapping":
            if not isinstance(state, Mapping):
                raise WorkflowDefinitionError(
                    f"initial state must be a mapping for state type {self.type_name}, "
                    f"got {type(state).__name__}"
                )
            if self.fields is not None:
                unknown = sorted(set(state) - self.fields)
                if unknown:
                    raise WorkflowDefinitionError(
                        f"initial state has keys not in {self.type_name}: {', '.join(unknown)}"
                    )
            return state if isinstance(state, FrozenState) else FrozenState(state)
        if not isinstance(state, self.state_type):
            raise WorkflowDefinitionError(
                f"initial state must be a {self.type_name} instance, got {type(state).__name__}"
            )
        return state

    def keys_of(self, state: Any) -> frozenset[str]:
        """The top-level keys a state of this model has (for a plain dict: its keys)."""
        if self.fields is not None:
            return self.fields
        return frozenset(state)

    def get(self, state: Any, key: str) -> Any:
        """The value of top-level ``key``."""
        if self.kind == "mapping":
            return state.get(key)
        return getattr(state, key)

    def replace(self, state: Any, key: str, value: Any) -> Any:
        """A new state with ``key`` set to ``value`` (validators of the type run)."""
        if self.kind == "attrs":
            return attrs.evolve(state, **{key: value})
        if self.kind == "dataclass":
            return dataclasses.replace(state, **{key: value})
        return state.set(key, value)

    def normalize(self, state: Any) -> Any:
        """Accept a reducer's returned state: mappings become :class:`FrozenState`.

        Raises ``TypeError`` when the value is not a state of this model.
        """
        if self.kind == "mapping":
            if isinstance(state, FrozenState):
                return state
            if isinstance(state, Mapping):
                return FrozenState(state)
            raise TypeError(f"expected a mapping state, got {type(state).__name__}")
        if not isinstance(state, self.state_type):
            raise TypeError(f"expected a {self.type_name} state, got {type(state).__name__}")
        return state

    def changes(self, old: Any, new: Any) -> list[tuple[str, Any, Any]]:
        """``(key, old_value, new_value)`` for every top-level key whose value changed."""
        if old is new:
            return []
        keys: list[str]
        if self.kind == "mapping":
            keys = list(dict.fromkeys([*old, *new]))
        else:
            keys = sorted(self.fields or ())
        found = []
        for key in keys:
            before = self.get(old, key)
            after = self.get(new, key)
            if not values_equal(before, after):
                found.append((key, before, after))
        return found

    def to_jsonable(self, state: Any) -> Any:
        """The state as JSON-compatible data."""
        return to_jsonable(state)

    def from_jsonable(self, data: Any) -> Any:
        """Inverse of :meth:`to_jsonable`: a state of this model from JSON data (structured
        with cattrs). Raises ``cattrs`` validation errors or ``TypeError`` on mismatch."""
        if self.kind == "mapping":
            if not isinstance(data, Mapping):
                raise TypeError(f"expected an object for {self.type_name}, got {data!r}")
            return FrozenState(data)
        return converter.structure(data, self.state_type)


def values_equal(a: Any, b: Any) -> bool:
    """Whether two state values are the same (identity, then ``==``; a failing or
    non-boolean comparison counts as different)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:
        return False
