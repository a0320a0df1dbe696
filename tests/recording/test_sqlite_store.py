"""SqliteSignalStore: one WAL file, shared safely by several store objects."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import trio

from openharness_actors import RecordingInfo, SqliteSignalStore, StoreError

from .test_store_contract import make_signals


async def test_several_stores_on_one_file(tmp_path: Path) -> None:
    """Several store objects on one file write different recordings concurrently and each
    sees every other's writes; the file is in WAL mode."""
    path = tmp_path / "shared.db"
    stores = [SqliteSignalStore(path) for _ in range(4)]

    async def write(number: int) -> None:
        store = stores[number]
        recording_id = f"rec-{number}"
        await store.create(RecordingInfo(id=recording_id, name="shared"))
        for batch in range(10):
            await store.append(recording_id, make_signals(5, f"run{number}", start=batch * 5))
            await stores[(number + 1) % 4].list(name="shared")
        await store.finalize(recording_id, status="completed")

    async with trio.open_nursery() as nursery:
        for number in range(4):
            nursery.start_soon(write, number)
    for reader in stores:
        infos = await reader.list(name="shared")
        assert sorted(info.id for info in infos) == [f"rec-{n}" for n in range(4)]
        for number in range(4):
            data = await reader.load(f"rec-{number}")
            assert data.signals == tuple(make_signals(50, f"run{number}"))
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


async def test_two_stores_racing_for_one_id(tmp_path: Path) -> None:
    """Two stores creating the same recording at once: exactly one wins, the other gets
    StoreError."""
    path = tmp_path / "race.db"
    outcomes: list[str] = []

    async def create(store: SqliteSignalStore) -> None:
        try:
            await store.create(RecordingInfo(id="same"))
            outcomes.append("created")
        except StoreError:
            outcomes.append("refused")

    async with trio.open_nursery() as nursery:
        for _ in range(2):
            nursery.start_soon(create, SqliteSignalStore(path))
    assert sorted(outcomes) == ["created", "refused"]


async def test_newer_format_is_refused(tmp_path: Path) -> None:
    """A store file written by a newer format version is refused with a message saying so."""
    path = tmp_path / "new.db"
    await SqliteSignalStore(path).create(RecordingInfo(id="r"))
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    with pytest.raises(
        StoreError, match=r"format version 99.*upgrade openharness_actors"
    ) as caught:
        await SqliteSignalStore(path).load("r")
    assert caught.value.location == str(path)


async def test_foreign_files_are_refused(tmp_path: Path) -> None:
    """Another application's SQLite database and a file that is no database at all raise
    StoreError naming the file."""
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not an openharness_actors recording store"):
        await SqliteSignalStore(other).list()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match=r"junk\.db") as caught:
        await SqliteSignalStore(junk).list()
    assert caught.value.location == str(junk)


async def test_parent_directory_is_created(tmp_path: Path) -> None:
    """The store creates its file and parent directories on first use."""
    path = tmp_path / "a" / "b" / "recordings.db"
    store = SqliteSignalStore(path)
    assert await store.list() == []
    assert path.is_file()
    assert repr(store) == f"SqliteSignalStore({str(path)!r})"
