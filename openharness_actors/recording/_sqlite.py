"""SqliteSignalStore: every recording in one SQLite file (WAL), the embedded default.

Each operation runs in a worker thread (``trio.to_thread.run_sync``) on a connection of its
own, inside one transaction, so any number of stores — in one process or several — can share
a file: SQLite's locking serializes writers (waiting up to ``busy_timeout`` seconds) and WAL
lets readers go on meanwhile. Writes take the write lock up front (``BEGIN IMMEDIATE``).

A store operation is atomic under cancellation: a cancelled caller waits for the worker thread
to finish its transaction (short) before the cancellation is delivered. Any SQLite error,
undecodable row or file that is not (or no longer) a database of ours becomes a
:class:`StoreError` naming the file; a file written by a newer format version is refused.

Integrity (format version 2, ``_integrity``): each recording keeps a running digest of its
signals' stored JSON and, once finalized, a digest of its final info; ``load`` recomputes
them, so content altered in the file (a flipped byte SQLite itself does not notice) is refused
with :class:`StoreError`. A version-1 file is upgraded in place when first opened (its
recordings are marked ``legacy``: read unchecked); older versions of the library then refuse
the file as newer.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import trio

from .._core._signal import Signal
from .._define._pattern import Pattern, PatternLike, compile_pattern
from .._errors import StoreError
from .._json import dumps
from ._integrity import LEGACY, chain, chain_start, final_digest
from ._store import (
    Checkpoint,
    RecordingData,
    RecordingInfo,
    check_paging,
    check_range,
    check_recording_id,
    check_status,
    opened,
    unencodable,
)

__all__ = ["FORMAT_VERSION", "SqliteSignalStore"]

FORMAT_VERSION = 2
"""The schema version this module writes and the newest it reads (1: without digests)."""

_APPLICATION_ID = 0x4F484143  # "OHAC": marks the file as one of ours
_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id TEXT PRIMARY KEY,
    name TEXT,
    tags TEXT NOT NULL,
    run_id TEXT,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    ended_at REAL,
    duration_ms REAL,
    signal_count INTEGER NOT NULL,
    metadata TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS recordings_by_name ON recordings (name, created_at);
CREATE TABLE IF NOT EXISTS recording_tags (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (recording_id, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS signals (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (recording_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS integrity (
    recording_id TEXT PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    final TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (recording_id, seq)
) WITHOUT ROWID;
"""

_INFO_COLUMNS = (
    "id, name, tags, run_id, status, created_at, ended_at, duration_ms, signal_count, metadata"
)


class SqliteSignalStore:
    """A :class:`SignalStore` in the SQLite file at ``path`` (created, with its parent
    directory, on first use). ``busy_timeout`` is how long (seconds) an operation waits for
    another writer before failing with :class:`StoreError`."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._ready = False

    def __repr__(self) -> str:
        return f"SqliteSignalStore({str(self.path)!r})"

    # -- plumbing -------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await trio.to_thread.run_sync(functools.partial(self._in_thread, fn, *args))

    def _in_thread(self, fn: Callable[..., _T], *args: Any) -> _T:
        try:
            with self._connect() as db:
                return fn(db, *args)
        except StoreError:
            raise
        except (sqlite3.Error, OSError, ValueError, OverflowError) as exc:
            # ValueError: text that is not UTF-8 in a damaged file (UnicodeDecodeError);
            # OSError: the directory cannot be made.
            raise StoreError(
                f"SQLite store {str(self.path)!r} failed: {exc}", location=str(self.path)
            ) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            if not self._ready:
                self._prepare(db)
                self._ready = True
            yield db
        finally:
            db.close()

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Create the schema on a new file, or check an existing one is ours and not newer."""
        db.execute("BEGIN IMMEDIATE")
        try:
            (application_id,) = db.execute("PRAGMA application_id").fetchone()
            (version,) = db.execute("PRAGMA user_version").fetchone()
            (tables,) = db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if application_id == 0 and tables == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            elif application_id == _APPLICATION_ID and version == 1:
                for statement in _SCHEMA.split(";"):  # adds the integrity table
                    if statement.strip():
                        db.execute(statement)
                db.execute(
                    "INSERT OR IGNORE INTO integrity (recording_id, digest) "
                    "SELECT id, ? FROM recordings",
                    (LEGACY,),
                )
                db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            elif application_id != _APPLICATION_ID:
                raise StoreError(
                    f"{str(self.path)!r} is a SQLite database but not an openharness_actors "
                    "recording store",
                    location=str(self.path),
                )
            elif version > FORMAT_VERSION:
                raise StoreError(
                    f"{str(self.path)!r} has recording store format version {version}; this "
                    f"version of openharness_actors reads up to version {FORMAT_VERSION}: "
                    "upgrade openharness_actors to read it",
                    location=str(self.path),
                )
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise
        self._ensure_wal(db)

    def _ensure_wal(self, db: sqlite3.Connection) -> None:
        """Switch the file to WAL (persistent) unless it is already. The switch needs the file
        to itself, so it is retried while other connections are busy, up to busy_timeout."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                (mode,) = db.execute("PRAGMA journal_mode").fetchone()
                if str(mode).lower() != "wal":
                    db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.005)

    @staticmethod
    @contextmanager
    def _transaction(db: sqlite3.Connection, *, write: bool) -> Iterator[None]:
        db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    def _row_info(self, row: Sequence[Any]) -> RecordingInfo:
        try:
            return RecordingInfo.from_dict(
                {
                    "id": row[0],
                    "name": row[1],
                    "tags": json.loads(row[2]),
                    "run_id": row[3],
                    "status": row[4],
                    "created_at": row[5],
                    "ended_at": row[6],
                    "duration_ms": row[7],
                    "signal_count": row[8],
                    "metadata": json.loads(row[9]),
                }
            )
        except (TypeError, ValueError, KeyError, StoreError) as exc:
            raise self._corrupt(f"recording row {row[0]!r}", exc) from exc

    def _corrupt(self, what: str, exc: BaseException) -> StoreError:
        return StoreError(
            f"SQLite store {str(self.path)!r}: {what} is corrupt: {exc}", location=str(self.path)
        )

    def _fetch_info(self, db: sqlite3.Connection, recording_id: str) -> RecordingInfo:
        row = db.execute(
            f"SELECT {_INFO_COLUMNS} FROM recordings WHERE id = ?", (recording_id,)
        ).fetchone()
        if row is None:
            raise StoreError(
                f"no recording {recording_id!r} in {self!r}", location=f"{self.path}:{recording_id}"
            )
        return self._row_info(row)

    def _writable(self, db: sqlite3.Connection, recording_id: str) -> RecordingInfo:
        info = self._fetch_info(db, recording_id)
        if info.finished:
            raise StoreError(
                f"recording {recording_id!r} is finalized ({info.status}); it accepts no more "
                "writes",
                location=f"{self.path}:{recording_id}",
            )
        return info

    def _decode_signal(self, index: int, data: str) -> Signal:
        try:
            return Signal.from_json(data)
        except Exception as exc:
            raise self._corrupt(f"signal {index}", exc) from exc

    # -- the store API ----------------------------------------------------------------------

    async def create(self, info: RecordingInfo) -> RecordingInfo:
        stored = opened(info, created_at=time.time())
        return await self._call(self._create, stored)

    def _create(self, db: sqlite3.Connection, info: RecordingInfo) -> RecordingInfo:
        with self._transaction(db, write=True):
            if db.execute("SELECT 1 FROM recordings WHERE id = ?", (info.id,)).fetchone():
                raise StoreError(
                    f"recording {info.id!r} already exists in {self!r}",
                    location=f"{self.path}:{info.id}",
                )
            db.execute(
                f"INSERT INTO recordings ({_INFO_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    info.id,
                    info.name,
                    dumps(list(info.tags)),
                    info.run_id,
                    info.status,
                    info.created_at,
                    info.ended_at,
                    info.duration_ms,
                    0,
                    dumps(dict(info.metadata)),
                ),
            )
            db.executemany(
                "INSERT INTO recording_tags (recording_id, tag) VALUES (?, ?)",
                [(info.id, tag) for tag in info.tags],
            )
            db.execute(
                "INSERT INTO integrity (recording_id, digest) VALUES (?, ?)",
                (info.id, chain_start(_created_fields(info))),
            )
        return info

    async def append(self, recording_id: str, signals: Sequence[Signal]) -> None:
        check_recording_id(recording_id)
        with unencodable(self, recording_id):
            rows = [(signal.name, signal.to_json()) for signal in signals]
        await self._call(self._append, recording_id, rows)

    def _append(
        self, db: sqlite3.Connection, recording_id: str, rows: list[tuple[str, str]]
    ) -> None:
        with self._transaction(db, write=True):
            first = self._writable(db, recording_id).signal_count
            db.executemany(
                "INSERT INTO signals (recording_id, idx, name, data) VALUES (?, ?, ?, ?)",
                [(recording_id, first + i, name, data) for i, (name, data) in enumerate(rows)],
            )
            db.execute(
                "UPDATE recordings SET signal_count = ? WHERE id = ?",
                (first + len(rows), recording_id),
            )
            digest, _ = self._integrity(db, recording_id)
            if digest != LEGACY:
                db.execute(
                    "UPDATE integrity SET digest = ? WHERE recording_id = ?",
                    (chain(digest, (data for _, data in rows)), recording_id),
                )

    async def checkpoint(self, recording_id: str, seq: int, state: Any) -> None:
        check_recording_id(recording_id)
        with unencodable(self, recording_id):
            state_json = dumps(state)
        await self._call(self._checkpoint, recording_id, seq, state_json)

    def _checkpoint(self, db: sqlite3.Connection, recording_id: str, seq: int, state: str) -> None:
        with self._transaction(db, write=True):
            self._writable(db, recording_id)
            db.execute(
                "INSERT OR REPLACE INTO checkpoints (recording_id, seq, state) VALUES (?, ?, ?)",
                (recording_id, seq, state),
            )

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
        self,
        db: sqlite3.Connection,
        recording_id: str,
        status: str,
        duration_ms: float | None,
        ended_at: float,
    ) -> RecordingInfo:
        with self._transaction(db, write=True):
            info = self._writable(db, recording_id)
            db.execute(
                "UPDATE recordings SET status = ?, duration_ms = ?, ended_at = ? WHERE id = ?",
                (status, duration_ms, ended_at, recording_id),
            )
            digest, _ = self._integrity(db, recording_id)
            if digest != LEGACY:
                checkpoints = db.execute(
                    "SELECT seq, state FROM checkpoints WHERE recording_id = ? ORDER BY seq",
                    (recording_id,),
                ).fetchall()
                seal = final_digest(
                    digest, status, duration_ms, ended_at, info.signal_count, checkpoints
                )
                db.execute(
                    "UPDATE integrity SET final = ? WHERE recording_id = ?", (seal, recording_id)
                )
            return self._fetch_info(db, recording_id)

    async def info(self, recording_id: str) -> RecordingInfo:
        check_recording_id(recording_id)
        return await self._call(self._info, recording_id)

    def _info(self, db: sqlite3.Connection, recording_id: str) -> RecordingInfo:
        with self._transaction(db, write=False):
            return self._fetch_info(db, recording_id)

    async def load(self, recording_id: str) -> RecordingData:
        check_recording_id(recording_id)
        return await self._call(self._load, recording_id)

    def _load(self, db: sqlite3.Connection, recording_id: str) -> RecordingData:
        with self._transaction(db, write=False):
            info = self._fetch_info(db, recording_id)
            rows = db.execute(
                "SELECT idx, data FROM signals WHERE recording_id = ? ORDER BY idx",
                (recording_id,),
            ).fetchall()
            checkpoint_rows = db.execute(
                "SELECT seq, state FROM checkpoints WHERE recording_id = ? ORDER BY seq",
                (recording_id,),
            ).fetchall()
            digest, final = self._integrity(db, recording_id)
        self._check_contiguous(rows, 0, info.signal_count)
        self._check_digests(info, rows, checkpoint_rows, digest, final)
        signals = tuple(self._decode_signal(index, data) for index, data in rows)
        checkpoints = []
        for seq, state in checkpoint_rows:
            try:
                checkpoints.append(Checkpoint(int(seq), json.loads(state)))
            except (TypeError, ValueError) as exc:
                raise self._corrupt(f"checkpoint {seq!r}", exc) from exc
        return RecordingData(info, signals, tuple(checkpoints))

    def _integrity(self, db: sqlite3.Connection, recording_id: str) -> tuple[str, Any]:
        """The recording's running digest and final seal (its row must exist)."""
        row = db.execute(
            "SELECT digest, final FROM integrity WHERE recording_id = ?", (recording_id,)
        ).fetchone()
        if row is None or not isinstance(row[0], str):
            raise self._corrupt(
                f"recording {recording_id!r}", ValueError("its integrity record is missing")
            )
        return row[0], row[1]

    def _check_digests(
        self,
        info: RecordingInfo,
        rows: Sequence[Sequence[Any]],
        checkpoints: Sequence[tuple[int, str]],
        digest: str,
        final: Any,
    ) -> None:
        if digest == LEGACY:
            return
        try:
            found = chain(chain_start(_created_fields(info)), (data for _, data in rows))
        except (AttributeError, TypeError) as exc:  # a value that is no longer text
            raise self._corrupt(f"recording {info.id!r}", exc) from exc
        if found != digest:
            raise self._corrupt(
                f"recording {info.id!r}",
                ValueError("its signals do not match their integrity digest (altered data)"),
            )
        expected = (
            None
            if not info.finished
            else final_digest(
                digest, info.status, info.duration_ms, info.ended_at, info.signal_count, checkpoints
            )
        )
        if final != expected:
            raise self._corrupt(
                f"recording {info.id!r}",
                ValueError("its final info does not match its integrity digest (altered data)"),
            )

    def _check_contiguous(self, rows: Sequence[Sequence[Any]], start: int, stop: int) -> None:
        indexes = [row[0] for row in rows]
        if indexes != list(range(start, start + len(indexes))) or start + len(indexes) != stop:
            raise self._corrupt(
                "the signal table",
                ValueError(f"expected signals {start}..{stop - 1}, found {len(indexes)} rows"),
            )

    async def load_signals(
        self,
        recording_id: str,
        *,
        start: int = 0,
        stop: int | None = None,
        pattern: PatternLike | Pattern | None = None,
    ) -> list[Signal]:
        check_recording_id(recording_id)
        check_range(start, stop)
        compiled = None if pattern is None else compile_pattern(pattern)
        return await self._call(self._load_signals, recording_id, start, stop, compiled)

    def _load_signals(
        self,
        db: sqlite3.Connection,
        recording_id: str,
        start: int,
        stop: int | None,
        pattern: Pattern | None,
    ) -> list[Signal]:
        with self._transaction(db, write=False):
            self._fetch_info(db, recording_id)
            rows = db.execute(
                "SELECT idx, name, data FROM signals WHERE recording_id = ? AND idx >= ? "
                "AND idx < ? ORDER BY idx",
                (recording_id, start, 2**62 if stop is None else stop),
            ).fetchall()
        found = []
        for index, name, data in rows:
            if pattern is None or (isinstance(name, str) and pattern.matches(name)):
                found.append(self._decode_signal(index, data))
        return found

    async def delete(self, recording_id: str) -> bool:
        check_recording_id(recording_id)
        return await self._call(self._delete, recording_id)

    def _delete(self, db: sqlite3.Connection, recording_id: str) -> bool:
        with self._transaction(db, write=True):
            cursor = db.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))
            return cursor.rowcount > 0

    async def exists(self, recording_id: str) -> bool:
        check_recording_id(recording_id)
        return await self._call(self._exists, recording_id)

    def _exists(self, db: sqlite3.Connection, recording_id: str) -> bool:
        row = db.execute("SELECT 1 FROM recordings WHERE id = ?", (recording_id,)).fetchone()
        return row is not None

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
        wanted = [tags] if isinstance(tags, str) else sorted(set(tags))
        return await self._call(self._list, name, wanted, status, limit, offset)

    def _list(
        self,
        db: sqlite3.Connection,
        name: str | None,
        tags: Sequence[str],
        status: str | None,
        limit: int | None,
        offset: int,
    ) -> builtins.list[RecordingInfo]:
        clauses = []
        params: list[Any] = []
        if name is not None:
            clauses.append("name = ?")
            params.append(name)
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        for tag in tags:
            clauses.append("id IN (SELECT recording_id FROM recording_tags WHERE tag = ?)")
            params.append(tag)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        params.extend([-1 if limit is None else limit, offset])
        with self._transaction(db, write=False):
            rows = db.execute(
                f"SELECT {_INFO_COLUMNS} FROM recordings {where} "
                "ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                params,
            ).fetchall()
        return [self._row_info(row) for row in rows]


def _created_fields(info: RecordingInfo) -> str:
    """What ``create`` stored of ``info`` (not what ``finalize`` or appends change), as JSON:
    the start of the recording's integrity digest."""
    data = info.to_dict()
    for key in ("status", "ended_at", "duration_ms", "signal_count"):
        del data[key]
    return dumps(data)


def _rollback(db: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already (it rolls back by itself on
    a full disk or I/O error: a second ROLLBACK would then hide the real error)."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # the error being raised is what matters
            db.execute("ROLLBACK")
