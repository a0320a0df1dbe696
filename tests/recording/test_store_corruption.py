"""Corrupt-file fuzzing: damaged store files only ever raise StoreError."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio
from hypothesis import HealthCheck, given, settings, strategies as st

from openharness_actors import (
    JsonlSignalStore,
    Recording,
    SignalStore,
    SqliteSignalStore,
    StoreError,
)
from openharness_actors.recording import RecordingData
from openharness_actors.recording._replay import ReplayIndex

from .recording_scenario import RichHarness, build_scenario

RECORDING_ID = "fuzzed"


@functools.cache
def pristine(kind: str) -> bytes:
    """The bytes of a real recording of the scenario, in a store of ``kind``."""

    async def make(directory: Path) -> bytes:
        store: SignalStore
        if kind == "jsonl":
            store = JsonlSignalStore(directory)
            path = store.path_for(RECORDING_ID)
        else:
            path = directory / "store.db"
            store = SqliteSignalStore(path)
        scenario = build_scenario()
        recording = Recording(mode="record", store=store, recording_id=RECORDING_ID)
        await scenario.workflow.run_reactive(
            **scenario.options(harness=RichHarness(), recording=recording)
        )
        return path.read_bytes()

    with tempfile.TemporaryDirectory() as directory:
        return trio.run(make, Path(directory))


damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(
        st.just("flip"),
        st.lists(
            st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
            min_size=1,
            max_size=4,
        ),
    ),
)


def damaged(data: bytes, how: tuple[str, Any]) -> bytes:
    kind, detail = how
    if kind == "truncate":
        return data[: int(len(data) * detail)]
    buffer = bytearray(data)
    for where, mask in detail:
        buffer[int(len(buffer) * where)] ^= mask
    return bytes(buffer)


async def exercise(store: SignalStore) -> None:
    """Every read operation, and building a replay index, either works or raises
    StoreError."""
    operations: list[Callable[[], Awaitable[object]]] = [
        lambda: store.list(),
        lambda: store.exists(RECORDING_ID),
        lambda: store.info(RECORDING_ID),
        lambda: store.load_signals(RECORDING_ID, start=2, stop=30, pattern="text:*"),
        lambda: store.load(RECORDING_ID),
    ]
    for operation in operations:
        try:
            outcome = await operation()
        except StoreError:
            continue
        if isinstance(outcome, RecordingData):
            with contextlib.suppress(StoreError):
                ReplayIndex(outcome)


fuzz = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz
@given(how=damage)
def test_damaged_jsonl_raises_only_store_error(how: tuple[str, Any]) -> None:
    """A JSONL recording truncated anywhere or with bytes flipped anywhere never makes a
    store operation raise anything but StoreError."""
    data = damaged(pristine("jsonl"), how)
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / f"{RECORDING_ID}.jsonl").write_bytes(data)
        trio.run(exercise, JsonlSignalStore(directory))


@fuzz
@given(how=damage)
def test_damaged_sqlite_raises_only_store_error(how: tuple[str, Any]) -> None:
    """A SQLite store file truncated anywhere or with bytes flipped anywhere never makes a
    store operation raise anything but StoreError."""
    data = damaged(pristine("sqlite"), how)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "store.db"
        path.write_bytes(data)
        trio.run(exercise, SqliteSignalStore(path))


def test_pristine_files_load() -> None:
    """The undamaged files the fuzzers start from load completely."""
    for kind in ("jsonl", "sqlite"):
        with tempfile.TemporaryDirectory() as directory:
            if kind == "jsonl":
                (Path(directory) / f"{RECORDING_ID}.jsonl").write_bytes(pristine(kind))
                store: SignalStore = JsonlSignalStore(directory)
            else:
                (Path(directory) / "store.db").write_bytes(pristine(kind))
                store = SqliteSignalStore(Path(directory) / "store.db")
            data = trio.run(store.load, RECORDING_ID)
            assert data.info.status == "completed"
            assert len(ReplayIndex(data)) == 6
