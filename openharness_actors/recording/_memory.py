"""MemorySignalStore: recordings in a dict, for tests and short-lived processes."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import trio

from .._core._signal import Signal
from .._define._pattern import Pattern, PatternLike
from .._errors import StoreError
from ._store import (
    Checkpoint,
    RecordingData,
    RecordingInfo,
    check_recording_id,
    check_status,
    opened,
    select_infos,
    select_signals,
)

__all__ = ["MemorySignalStore"]


@attrs.define
class _Entry:
    info: RecordingInfo
    signals: list[Signal] = attrs.field(factory=list)
    checkpoints: list[Checkpoint] = attrs.field(factory=list)


class MemorySignalStore:
    """A :class:`SignalStore` held in memory; lost when the object is.

    Every operation checkpoints first (so it is a cancellation point) and then completes
    without waiting, so it is atomic under cancellation.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def __repr__(self) -> str:
        return f"MemorySignalStore({len(self._entries)} recordings)"

    def _entry(self, recording_id: str, *, writable: bool = False) -> _Entry:
        entry = self._entries.get(check_recording_id(recording_id))
        if entry is None:
            raise StoreError(f"no recording {recording_id!r} in {self!r}", location=recording_id)
        if writable and entry.info.finished:
            raise StoreError(
                f"recording {recording_id!r} is finalized ({entry.info.status}); it accepts no "
                "more writes",
                location=recording_id,
            )
        return entry

    async def create(self, info: RecordingInfo) -> RecordingInfo:
        await trio.lowlevel.checkpoint()
        stored = opened(info, created_at=time.time())
        if stored.id in self._entries:
            raise StoreError(f"recording {stored.id!r} already exists", location=stored.id)
        self._entries[stored.id] = _Entry(stored)
        return stored

    async def append(self, recording_id: str, signals: Sequence[Signal]) -> None:
        await trio.lowlevel.checkpoint()
        entry = self._entry(recording_id, writable=True)
        entry.signals.extend(signals)
        entry.info = attrs.evolve(entry.info, signal_count=len(entry.signals))

    async def checkpoint(self, recording_id: str, seq: int, state: Any) -> None:
        await trio.lowlevel.checkpoint()
        self._entry(recording_id, writable=True).checkpoints.append(Checkpoint(seq, state))

    async def finalize(
        self,
        recording_id: str,
        *,
        status: str,
        duration_ms: float | None = None,
        ended_at: float | None = None,
    ) -> RecordingInfo:
        await trio.lowlevel.checkpoint()
        check_status(status)
        entry = self._entry(recording_id, writable=True)
        entry.info = attrs.evolve(
            entry.info,
            status=status,
            duration_ms=duration_ms,
            ended_at=time.time() if ended_at is None else ended_at,
        )
        return entry.info

    async def info(self, recording_id: str) -> RecordingInfo:
        await trio.lowlevel.checkpoint()
        return self._entry(recording_id).info

    async def load(self, recording_id: str) -> RecordingData:
        await trio.lowlevel.checkpoint()
        entry = self._entry(recording_id)
        return RecordingData(entry.info, tuple(entry.signals), tuple(entry.checkpoints))

    async def load_signals(
        self,
        recording_id: str,
        *,
        start: int = 0,
        stop: int | None = None,
        pattern: PatternLike | Pattern | None = None,
    ) -> list[Signal]:
        await trio.lowlevel.checkpoint()
        return select_signals(self._entry(recording_id).signals, start, stop, pattern)

    async def list(
        self,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RecordingInfo]:
        await trio.lowlevel.checkpoint()
        infos = [entry.info for entry in self._entries.values()]
        return select_infos(infos, name=name, tags=tags, status=status, limit=limit, offset=offset)

    async def delete(self, recording_id: str) -> bool:
        await trio.lowlevel.checkpoint()
        return self._entries.pop(check_recording_id(recording_id), None) is not None

    async def exists(self, recording_id: str) -> bool:
        await trio.lowlevel.checkpoint()
        return check_recording_id(recording_id) in self._entries
