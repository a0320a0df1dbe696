"""The recording store API: one async protocol, and the values it reads and writes.

A recording is the signal log of one run plus a little metadata (:class:`RecordingInfo`) and
optional state checkpoints. A store holds many recordings. Every store implements
:class:`SignalStore` with the same semantics, which this module states once:

* recording ids are 1-128 characters of letters, digits, ``_``, ``.`` and ``-``, not starting
  with ``.`` (so every store, the JSONL one included, can use them as they are);
* a recording is *open* (``status == "recording"``) from :meth:`~SignalStore.create` until
  :meth:`~SignalStore.finalize`; only open recordings accept appends and checkpoints;
* signals are indexed from 0 in append order (the recorder appends every signal of a run in
  broker order, so index == ``seq``);
* every failure is a :class:`~openharness_actors.StoreError` whose ``location`` names the
  recording, or the file (and line) at fault;
* each method is atomic under cancellation: it either completed or changed nothing.

This module owns no storage; ``_memory``, ``_sqlite`` and ``_jsonl`` do.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, runtime_checkable

import attrs

from .._core._signal import Signal
from .._define._pattern import Pattern, PatternLike, compile_pattern
from .._errors import StoreError

__all__ = [
    "OPEN",
    "Checkpoint",
    "RecordingData",
    "RecordingInfo",
    "SignalStore",
    "as_tags",
    "check_paging",
    "check_range",
    "check_recording_id",
    "check_status",
    "new_recording_id",
    "opened",
    "select_infos",
    "select_signals",
    "unencodable",
]

OPEN = "recording"
"""The status of a recording that is still being written (or whose writer died)."""

_RECORDING_ID = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,127}")


def new_recording_id() -> str:
    """A fresh recording id (``"rec_…"``)."""
    return "rec_" + uuid.uuid4().hex[:20]


def check_recording_id(recording_id: object) -> str:
    """Return ``recording_id`` if it is valid (see the module docstring), else raise
    :class:`StoreError`."""
    if not isinstance(recording_id, str) or not _RECORDING_ID.fullmatch(recording_id):
        raise StoreError(
            f"invalid recording id {recording_id!r}: use 1-128 letters, digits, '_', '.', '-' "
            "(not starting with '.')",
            location=repr(recording_id),
        )
    return recording_id


def as_tags(value: Iterable[str]) -> tuple[str, ...]:
    """Tags as a tuple without duplicates (a lone string is one tag)."""
    if isinstance(value, str):
        return (value,)
    return tuple(dict.fromkeys(value))


@attrs.frozen
class RecordingInfo:
    """What a store knows about one recording, without its signals.

    ``status`` is ``"recording"`` while open, then the run's final status (``completed``,
    ``terminated``, ``failed``, ``timeout``, ``cancelled``). ``created_at``/``ended_at`` are
    seconds since the epoch; ``duration_ms`` is the run's duration. ``signal_count`` counts the
    signals appended so far. ``metadata`` is free JSON-compatible data (the recorder stores the
    agent names and the run id's workflow there).
    """

    id: str
    name: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=as_tags)
    run_id: str | None = None
    status: str = OPEN
    created_at: float = 0.0
    ended_at: float | None = None
    duration_ms: float | None = None
    signal_count: int = 0
    metadata: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the recording was finalized."""
        return self.status != OPEN

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form (stable keys)."""
        return {
            "id": self.id,
            "name": self.name,
            "tags": list(self.tags),
            "run_id": self.run_id,
            "status": self.status,
            "created_at": self.created_at,
            "ended_at": self.ended_at,
            "duration_ms": self.duration_ms,
            "signal_count": self.signal_count,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordingInfo:
        """Inverse of :meth:`to_dict`; raises ``TypeError``/``ValueError``/``KeyError`` on
        malformed data (stores turn those into :class:`StoreError`)."""
        info = cls(
            id=check_recording_id(data["id"]),
            name=_optional(data.get("name"), str),
            tags=tuple(_checked(tag, str) for tag in _checked(data.get("tags", []), list)),
            run_id=_optional(data.get("run_id"), str),
            status=_checked(data.get("status", OPEN), str),
            created_at=float(_checked(data.get("created_at", 0.0), int | float)),
            ended_at=_optional_number(data.get("ended_at")),
            duration_ms=_optional_number(data.get("duration_ms")),
            signal_count=_checked(data.get("signal_count", 0), int),
            metadata=_checked(data.get("metadata", {}), dict),
        )
        return info


def _checked(value: Any, kind: Any) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, int | float)):
        raise TypeError(f"expected {kind}, got {type(value).__name__} {value!r}")
    return value


def _optional(value: Any, kind: type) -> Any:
    return None if value is None else _checked(value, kind)


def _optional_number(value: Any) -> float | None:
    return None if value is None else float(_checked(value, int | float))


@attrs.frozen
class Checkpoint:
    """The workflow state (JSON data) as of the signal with index ``seq``."""

    seq: int
    state: Any


@attrs.frozen
class RecordingData:
    """A whole recording: its info, every signal in order, and its checkpoints."""

    info: RecordingInfo
    signals: tuple[Signal, ...]
    checkpoints: tuple[Checkpoint, ...] = ()

    @property
    def id(self) -> str:
        return self.info.id


@runtime_checkable
class SignalStore(Protocol):
    """Where recordings live. Every method may raise :class:`StoreError`; see the module
    docstring for the semantics every implementation honours."""

    async def create(self, info: RecordingInfo) -> RecordingInfo:
        """Create an open recording described by ``info`` (its status and counts are reset);
        returns what was stored. Raises :class:`StoreError` if the id exists."""
        ...

    async def append(self, recording_id: str, signals: Sequence[Signal]) -> None:
        """Append a batch of signals, in order, to an open recording."""
        ...

    async def checkpoint(self, recording_id: str, seq: int, state: Any) -> None:
        """Record the state (JSON data) as of signal index ``seq`` in an open recording."""
        ...

    async def finalize(
        self,
        recording_id: str,
        *,
        status: str,
        duration_ms: float | None = None,
        ended_at: float | None = None,
    ) -> RecordingInfo:
        """Close an open recording with the run's final ``status``; returns the new info."""
        ...

    async def info(self, recording_id: str) -> RecordingInfo:
        """The info of one recording."""
        ...

    async def load(self, recording_id: str) -> RecordingData:
        """The whole recording."""
        ...

    async def load_signals(
        self,
        recording_id: str,
        *,
        start: int = 0,
        stop: int | None = None,
        pattern: PatternLike | Pattern | None = None,
    ) -> list[Signal]:
        """The signals with index in ``[start, stop)`` whose name matches ``pattern``."""
        ...

    async def list(
        self,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RecordingInfo]:
        """Recordings newest first (``created_at``, then id, descending), filtered by exact
        ``name``, by having every tag in ``tags`` and by ``status``; then ``offset`` of
        them skipped and at most ``limit`` returned."""
        ...

    async def delete(self, recording_id: str) -> bool:
        """Delete a recording; returns whether it existed."""
        ...

    async def exists(self, recording_id: str) -> bool:
        """Whether a recording with that id exists (open or finalized)."""
        ...


def check_range(start: int, stop: int | None) -> None:
    """Validate a ``load_signals`` index range."""
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise StoreError(f"start must be an integer >= 0, not {start!r}")
    if stop is not None and (isinstance(stop, bool) or not isinstance(stop, int) or stop < 0):
        raise StoreError(f"stop must be None or an integer >= 0, not {stop!r}")


def check_paging(limit: int | None, offset: int) -> None:
    """Validate ``list`` paging arguments."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise StoreError(f"limit must be None or an integer >= 0, not {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise StoreError(f"offset must be an integer >= 0, not {offset!r}")


def select_signals(
    signals: Sequence[Signal], start: int, stop: int | None, pattern: PatternLike | Pattern | None
) -> list[Signal]:
    """``load_signals`` over an in-memory sequence."""
    check_range(start, stop)
    chosen = signals[start:stop]
    if pattern is None:
        return list(chosen)
    compiled = compile_pattern(pattern)
    return [signal for signal in chosen if compiled.matches(signal.name)]


def select_infos(
    infos: Iterable[RecordingInfo],
    *,
    name: str | None,
    tags: Iterable[str],
    status: str | None,
    limit: int | None,
    offset: int,
) -> list[RecordingInfo]:
    """``list`` over in-memory infos: filter, order newest first, page."""
    check_paging(limit, offset)
    wanted = set(as_tags(tags))
    found = [
        info
        for info in infos
        if (name is None or info.name == name)
        and wanted.issubset(info.tags)
        and (status is None or info.status == status)
    ]
    found.sort(key=lambda info: (info.created_at, info.id), reverse=True)
    end = None if limit is None else offset + limit
    return found[offset:end]


def opened(info: RecordingInfo, *, created_at: float) -> RecordingInfo:
    """``info`` as :meth:`SignalStore.create` stores it: open, empty, with a creation time."""
    check_recording_id(info.id)
    return attrs.evolve(
        info,
        status=OPEN,
        created_at=info.created_at or created_at,
        ended_at=None,
        duration_ms=None,
        signal_count=0,
    )


def check_status(status: object) -> str:
    """Validate a final status given to ``finalize``."""
    if not isinstance(status, str) or not status or status == OPEN:
        raise StoreError(f"a final status must be a non-empty string other than {OPEN!r}")
    return status


@contextmanager
def unencodable(store: object, recording_id: str) -> Iterator[None]:
    """Turn a failure to encode data for ``store`` (a lone surrogate, an int past Python's
    int-to-string limit, a value that is not JSON) into :class:`StoreError`."""
    try:
        yield
    except (TypeError, ValueError, RecursionError) as exc:
        raise StoreError(
            f"{store!r} cannot encode data for recording {recording_id!r}: {exc}",
            location=recording_id,
        ) from exc
