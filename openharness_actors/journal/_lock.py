"""One process at a time per journaled run: an exclusive lock held while the run executes.

For stores with a file (SQLite) or a directory (JSONL) the lock is an ``flock`` on a lock
file beside it, so it also excludes other processes and is released by the OS when the
holder dies (SIGKILL included). For other stores it only excludes the current process.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from .._errors import StoreError

__all__ = ["RunLock"]

_LOCAL: set[tuple[int, str]] = set()


class RunLock:
    """An exclusive, non-blocking lock on ``run_id`` in ``store``; raises
    :class:`StoreError` on :meth:`acquire` when another holder has it."""

    def __init__(self, store: Any, run_id: str) -> None:
        self._run_id = run_id
        self._key = (id(store), run_id)
        self._path: Path | None = None
        self._fd: int | None = None
        if isinstance(getattr(store, "path", None), Path):
            self._path = store.path.with_name(f"{store.path.name}.{run_id}.lock")
        elif isinstance(getattr(store, "directory", None), Path):
            self._path = store.directory / f".{run_id}.lock"

    def acquire(self) -> None:
        busy = StoreError(
            f"run {self._run_id!r} is being run or resumed by another process or task "
            "(its journal is locked)",
            location=str(self._path) if self._path else self._run_id,
        )
        if self._path is None:
            if self._key in _LOCAL:
                raise busy
            _LOCAL.add(self._key)
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise busy from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._path is None:
            _LOCAL.discard(self._key)
            return
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
