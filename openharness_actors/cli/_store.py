"""``--store PATH``: which recording store a command uses.

A directory (existing, or a path ending in ``/``) is a :class:`JsonlSignalStore`; any other
path is a :class:`SqliteSignalStore` file. Without ``--store``, the library's default store
(``$OPENHARNESS_RECORDINGS``, else ``.openharness/recordings.db``). Commands that only read
(``recordings``, ``trace``) refuse a store that does not exist rather than create an empty one.
"""

from __future__ import annotations

import os
from pathlib import Path

from .._errors import StoreError
from ..recording import JsonlSignalStore, SignalStore, SqliteSignalStore, default_store
from ..recording._store import check_recording_id

__all__ = ["RECORDING_HELP", "STORE_HELP", "open_store", "recording_id_for"]

RECORDING_HELP = (
    "a recording id, or a name: the newest finished recording of that name (as --replay "
    "NAME takes it), else the newest of that name"
)

STORE_HELP = (
    "recording store: a SQLite file, or a directory of JSONL recordings (an existing directory "
    "or a path ending in '/'); default $OPENHARNESS_RECORDINGS, else .openharness/recordings.db"
)


def open_store(path: str | None, *, must_exist: bool = False) -> SignalStore:
    """The store ``--store path`` names (see the module docstring).

    With ``must_exist``, raises :class:`StoreError` when there is no such file or directory.
    """
    store = default_store() if path is None else _store_at(path)
    if must_exist:
        location = store.directory if isinstance(store, JsonlSignalStore) else _file_of(store)
        if location is not None and not location.exists():
            raise StoreError(f"no recording store at {str(location)!r}", location=str(location))
    return store


def _store_at(path: str) -> SignalStore:
    if path.endswith(("/", os.sep)) or Path(path).is_dir():
        return JsonlSignalStore(path)
    return SqliteSignalStore(path)


def _file_of(store: SignalStore) -> Path | None:
    return store.path if isinstance(store, SqliteSignalStore) else None


async def recording_id_for(store: SignalStore, value: str) -> str:
    """The id of the recording ``value`` names in ``store``: ``value`` itself when it is an
    id there, else the newest finished recording named ``value`` (the one ``--replay NAME``
    replays), else the newest named so (still recording). Raises :class:`StoreError`."""
    try:
        check_recording_id(value)
    except StoreError:
        pass
    else:
        if await store.exists(value):
            return value
    newest: str | None = None
    offset = 0
    while True:
        page = await store.list(name=value, limit=50, offset=offset)
        for info in page:
            if info.finished:
                return info.id
            newest = newest or info.id
        if len(page) < 50:
            break
        offset += len(page)
    if newest is not None:
        return newest
    raise StoreError(f"no recording with id or name {value!r} in {store!r}", location=value)
