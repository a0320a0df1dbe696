"""JsonlSignalStore: one JSON-lines file per recording, meant to be committed as CI fixtures.

The file ``<directory>/<recording id>.jsonl`` holds one JSON object per line, keys sorted, so
a re-recorded fixture diffs line by line; each line ends with its integrity digest ``h``
(``_integrity``)::

    {"format":"openharness-actors/recording","recording":{...info...},"version":2,"h":"…"}
    {"signal":{...},"h":"…"}                      one line per signal, in order
    {"checkpoint":{"seq":41,"state":{...}},"h":"…"}
    {"end":{"duration_ms":..,"ended_at":..,"signal_count":..,"status":"completed"},"h":"…"}

The first line is the versioned header; the ``end`` line, written by ``finalize``, is last.
A recording without one is incomplete: still open, or its writer died, or the file was cut at
a line boundary (its status reads ``"recording"``). Reading is strict: a file that is not
valid UTF-8, a line that is not one of these objects or does not match its digest (altered,
moved, dropped), a missing final newline (a truncated write), a line after ``end`` or an
``end`` whose count disagrees raise :class:`StoreError` naming ``file:line``; a header with a
newer ``version`` is refused with a message. Version 1 files (no digests) are still read, and
appended to, unchecked.

File operations run in worker threads (``trio.to_thread.run_sync``), one at a time per store
object; each is atomic under cancellation (the thread finishes its write first). One writer per
recording: two store objects appending to the same recording would interleave lines.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import json
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import attrs
import trio

from .._core._signal import Signal
from .._define._pattern import Pattern, PatternLike
from .._errors import StoreError
from .._json import dumps
from ._integrity import seal_line, split_sealed
from ._store import (
    Checkpoint,
    RecordingData,
    RecordingInfo,
    check_paging,
    check_range,
    check_recording_id,
    check_status,
    opened,
    select_infos,
    select_signals,
    unencodable,
)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "JsonlSignalStore"]

FORMAT_NAME = "openharness-actors/recording"
FORMAT_VERSION = 2
"""The format version this module writes and the newest it reads (1: without digests)."""

_SUFFIX = ".jsonl"
_SIGNAL_PREFIX = b'{"signal":'
_CHECKPOINT_PREFIX = b'{"checkpoint":'
_T = TypeVar("_T")


class JsonlSignalStore:
    """A :class:`SignalStore` keeping each recording in ``<directory>/<id>.jsonl`` (the
    directory is created on first write)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._lock = trio.Lock()
        self._open: dict[str, RecordingInfo] = {}
        self._next: dict[str, _Position] = {}

    def __repr__(self) -> str:
        return f"JsonlSignalStore({str(self.directory)!r})"

    def path_for(self, recording_id: str) -> Path:
        """The file that holds (or would hold) recording ``recording_id``."""
        return self.directory / f"{check_recording_id(recording_id)}{_SUFFIX}"

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        async with self._lock:
            return await trio.to_thread.run_sync(functools.partial(self._guarded, fn, *args))

    def _guarded(self, fn: Callable[..., _T], *args: Any) -> _T:
        try:
            return fn(*args)
        except OSError as exc:
            where = exc.filename or self.directory
            raise StoreError(f"JSONL store {self!r}: {exc}", location=str(where)) from exc

    def _missing(self, recording_id: str) -> StoreError:
        path = self.path_for(recording_id)
        return StoreError(f"no recording {recording_id!r} in {self!r}", location=str(path))

    # -- reading -----------------------------------------------------------------------------

    def _read_lines(self, path: Path) -> list[bytes]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise self._missing(path.name[: -len(_SUFFIX)]) from None
        if not data:
            raise _error(path, 1, "the file is empty (no header line)")
        lines = data.split(b"\n")
        if lines[-1]:
            raise _error(
                path,
                len(lines),
                "the last line is truncated (the file does not end with a newline)",
            )
        return lines[:-1]

    def _read(self, path: Path) -> RecordingData:
        lines = self._read_lines(path)
        info, position = _header(path, lines[0])
        signals: list[Signal] = []
        checkpoints: list[Checkpoint] = []
        end: dict[str, Any] | None = None
        for number, raw in enumerate(lines[1:], start=2):
            if end is not None:
                raise _error(path, number, "a line follows the 'end' line")
            kind, body = _entry(path, number, position.unsealed(path, number, raw))
            if kind == "signal":
                try:
                    signals.append(Signal.from_dict(body))
                except Exception as exc:
                    raise _error(path, number, f"not a valid signal: {_reason(exc)}") from exc
            elif kind == "checkpoint":
                checkpoints.append(_checkpoint(path, number, body))
            else:
                end = body
        info = attrs.evolve(info, signal_count=len(signals))
        if end is not None:
            info = _ended(path, len(lines), info, end)
        return RecordingData(info, tuple(signals), tuple(checkpoints))

    def _read_info(self, path: Path) -> RecordingInfo:
        """The info without decoding every signal (the header, the last line and a count)."""
        return self._read_position(path)[0]

    def _read_position(self, path: Path) -> tuple[RecordingInfo, _Position]:
        """The info, and where the next line goes (for appending)."""
        lines = self._read_lines(path)
        info, position = _header(path, lines[0])
        count = sum(1 for line in lines[1:] if line.startswith(_SIGNAL_PREFIX))
        info = attrs.evolve(info, signal_count=count)
        if len(lines) > 1 and not lines[-1].startswith((_SIGNAL_PREFIX, _CHECKPOINT_PREFIX)):
            last = position.unsealed(path, len(lines), lines[-1])
            kind, body = _entry(path, len(lines), last)
            if kind == "end":
                info = _ended(path, len(lines), info, body)
        return info, attrs.evolve(position, line=len(lines) + 1)

    def _writable(self, recording_id: str) -> RecordingInfo:
        info = self._open.get(recording_id)
        if info is None:
            info, position = self._read_position(self.path_for(recording_id))
            if not info.finished:
                self._open[recording_id] = info
                self._next[recording_id] = position
        if info.finished:
            raise StoreError(
                f"recording {recording_id!r} is finalized ({info.status}); it accepts no more "
                "writes",
                location=str(self.path_for(recording_id)),
            )
        return info

    def _write(self, recording_id: str, bodies: Sequence[str], *, sync: bool = False) -> None:
        """Append ``bodies`` (one-key JSON objects) as sealed lines, whole or not at all:
        after a failed write (a full disk) the file is cut back to its previous size, so no
        partial line is left for later lines to follow."""
        position = self._next[recording_id]
        lines, after = position.seal(bodies)
        self._append_bytes(self.path_for(recording_id), lines, sync=sync)
        self._next[recording_id] = after

    def _append_bytes(self, path: Path, lines: Iterable[str], *, sync: bool) -> None:
        data = memoryview("".join(f"{line}\n" for line in lines).encode("utf-8"))
        with path.open("ab", buffering=0) as file:
            size = file.seek(0, os.SEEK_END)
            try:
                while data:
                    data = data[file.write(data) or 0 :]
                if sync:
                    os.fsync(file.fileno())
            except OSError:
                with contextlib.suppress(OSError):  # the write's error is the one to report
                    file.truncate(size)
                raise

    # -- the store API -------------------------------------------------------------------------

    async def create(self, info: RecordingInfo) -> RecordingInfo:
        stored = opened(info, created_at=time.time())
        return await self._call(self._create, stored)

    def _create(self, info: RecordingInfo) -> RecordingInfo:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(info.id)
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "recording": _header_info(info),
        }
        line, key = seal_line("", 1, dumps(header))
        try:
            with path.open("x", encoding="utf-8", newline="\n") as file:
                file.write(line + "\n")
        except FileExistsError:
            raise StoreError(
                f"recording {info.id!r} already exists in {self!r}", location=str(path)
            ) from None
        self._open[info.id] = info
        self._next[info.id] = _Position(FORMAT_VERSION, key, 2)
        return info

    async def append(self, recording_id: str, signals: Sequence[Signal]) -> None:
        check_recording_id(recording_id)
        with unencodable(self, recording_id):
            lines = [dumps({"signal": signal.to_dict()}) for signal in signals]
        await self._call(self._append, recording_id, lines)

    def _append(self, recording_id: str, lines: list[str]) -> None:
        info = self._writable(recording_id)
        self._write(recording_id, lines)
        self._open[recording_id] = attrs.evolve(info, signal_count=info.signal_count + len(lines))

    async def checkpoint(self, recording_id: str, seq: int, state: Any) -> None:
        check_recording_id(recording_id)
        with unencodable(self, recording_id):
            line = dumps({"checkpoint": {"seq": seq, "state": state}})
        await self._call(self._checkpoint, recording_id, line)

    def _checkpoint(self, recording_id: str, line: str) -> None:
        self._writable(recording_id)
        self._write(recording_id, [line], sync=True)

    async def finalize(
        self,
        recording_id: str,
        *,
        status: str,
        duration_ms: float | None = None,
        ended_at: float | None = None,
    ) -> RecordingInfo:
        check_recording_id(recording_id)
        check_status(status)
        ended = time.time() if ended_at is None else ended_at
        return await self._call(self._finalize, recording_id, status, duration_ms, ended)

    def _finalize(
        self, recording_id: str, status: str, duration_ms: float | None, ended_at: float
    ) -> RecordingInfo:
        info = self._writable(recording_id)
        final = attrs.evolve(info, status=status, duration_ms=duration_ms, ended_at=ended_at)
        end = {
            "status": status,
            "duration_ms": duration_ms,
            "ended_at": ended_at,
            "signal_count": info.signal_count,
        }
        self._write(recording_id, [dumps({"end": end})], sync=True)
        del self._open[recording_id]
        del self._next[recording_id]
        return final

    async def info(self, recording_id: str) -> RecordingInfo:
        path = self.path_for(recording_id)
        return await self._call(self._read_info, path)

    async def load(self, recording_id: str) -> RecordingData:
        path = self.path_for(recording_id)
        return await self._call(self._read, path)

    async def load_signals(
        self,
        recording_id: str,
        *,
        start: int = 0,
        stop: int | None = None,
        pattern: PatternLike | Pattern | None = None,
    ) -> list[Signal]:
        check_range(start, stop)
        data = await self.load(recording_id)
        return select_signals(data.signals, start, stop, pattern)

    async def delete(self, recording_id: str) -> bool:
        path = self.path_for(recording_id)
        return await self._call(self._delete, recording_id, path)

    def _delete(self, recording_id: str, path: Path) -> bool:
        self._open.pop(recording_id, None)
        self._next.pop(recording_id, None)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    async def exists(self, recording_id: str) -> bool:
        path = self.path_for(recording_id)
        return await self._call(path.is_file)

    async def list(
        self,
        *,
        name: str | None = None,
        tags: Iterable[str] = (),
        status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[RecordingInfo]:
        check_paging(limit, offset)
        infos = await self._call(self._all_infos)
        return select_infos(infos, name=name, tags=tags, status=status, limit=limit, offset=offset)

    def _all_infos(self) -> builtins.list[RecordingInfo]:
        if not self.directory.is_dir():
            return []
        return [self._read_info(path) for path in sorted(self.directory.glob(f"*{_SUFFIX}"))]


def _error(path: Path, line: int, problem: str) -> StoreError:
    return StoreError(f"{path}:{line}: {problem}", location=f"{path}:{line}")


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:200] + "…"


def _json_object(path: Path, line: int, raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _error(path, line, f"not valid UTF-8: {_reason(exc)}") from exc
    except (ValueError, RecursionError) as exc:
        raise _error(path, line, f"not valid JSON: {_reason(exc)}") from exc
    if not isinstance(value, dict):
        raise _error(path, line, f"expected a JSON object, found {type(value).__name__}")
    return value


def _header_info(info: RecordingInfo) -> dict[str, Any]:
    data = info.to_dict()
    for key in ("status", "ended_at", "duration_ms", "signal_count"):
        del data[key]
    return data


@attrs.frozen
class _Position:
    """How a recording's lines are sealed (its format ``version`` and the header's digest
    ``key``), and the number of the next line."""

    version: int
    key: str
    line: int

    def unsealed(self, path: Path, number: int, raw: bytes) -> bytes:
        """Line ``number`` as a one-key JSON object, its digest checked (version 2)."""
        if self.version < 2:
            return raw
        found = split_sealed(self.key, number, raw)
        if isinstance(found, str):
            raise _error(path, number, f"the line {found}")
        return found[0]

    def seal(self, bodies: Sequence[str]) -> tuple[list[str], _Position]:
        """The lines for ``bodies`` from here on, and the position after them."""
        if self.version < 2:
            return list(bodies), attrs.evolve(self, line=self.line + len(bodies))
        lines = [seal_line(self.key, self.line + i, body)[0] for i, body in enumerate(bodies)]
        return lines, attrs.evolve(self, line=self.line + len(bodies))


def _header(path: Path, raw: bytes) -> tuple[RecordingInfo, _Position]:
    header = _json_object(path, 1, raw)
    if header.get("format") != FORMAT_NAME:
        raise _error(path, 1, f"not an openharness_actors recording (no {FORMAT_NAME!r} header)")
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _error(path, 1, f"invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise _error(
            path,
            1,
            f"format version {version} is newer than this version of openharness_actors reads "
            f"(up to {FORMAT_VERSION}): upgrade openharness_actors to read this recording",
        )
    key = ""
    if version >= 2:
        found = split_sealed("", 1, raw)
        if isinstance(found, str):
            raise _error(path, 1, f"the header line {found}")
        key = found[1]
    recording = header.get("recording")
    try:
        if not isinstance(recording, dict):
            raise TypeError("'recording' is not an object")
        info = RecordingInfo.from_dict({**recording, "status": "recording", "signal_count": 0})
    except Exception as exc:
        raise _error(path, 1, f"invalid recording header: {_reason(exc)}") from exc
    return info, _Position(version, key, 2)


def _entry(path: Path, line: int, raw: bytes) -> tuple[str, dict[str, Any]]:
    value = _json_object(path, line, raw)
    if len(value) != 1:
        raise _error(
            path, line, f"expected one of 'signal', 'checkpoint', 'end'; found {sorted(value)}"
        )
    ((kind, body),) = value.items()
    if kind not in ("signal", "checkpoint", "end") or not isinstance(body, dict):
        raise _error(
            path, line, f"expected a 'signal', 'checkpoint' or 'end' object, found {kind!r}"
        )
    return kind, body


def _checkpoint(path: Path, line: int, body: dict[str, Any]) -> Checkpoint:
    seq = body.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or "state" not in body:
        raise _error(path, line, "a checkpoint needs an integer 'seq' and a 'state'")
    return Checkpoint(seq, body["state"])


def _ended(path: Path, line: int, info: RecordingInfo, end: dict[str, Any]) -> RecordingInfo:
    try:
        final = RecordingInfo.from_dict(
            {
                **info.to_dict(),
                "status": end["status"],
                "duration_ms": end.get("duration_ms"),
                "ended_at": end.get("ended_at"),
            }
        )
        check_status(final.status)
    except Exception as exc:
        raise _error(path, line, f"invalid 'end' line: {_reason(exc)}") from exc
    if end.get("signal_count") != info.signal_count:
        raise _error(
            path,
            line,
            f"the 'end' line counts {end.get('signal_count')!r} signals but the file holds "
            f"{info.signal_count}",
        )
    return final
