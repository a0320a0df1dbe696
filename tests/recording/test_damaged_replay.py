"""Replaying a damaged recording ends in bounded time: with the recorded state, or with a
StoreError / ReplayDivergenceError — never a hang, never silently altered content."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from openharness_actors import (
    JsonlSignalStore,
    MemorySignalStore,
    Recording,
    ReplayDivergenceError,
    SignalStore,
    SqliteSignalStore,
    StoreError,
    WorkflowTimeoutError,
)
from openharness_actors.recording._unfinished import unfinished_bound

from .recording_scenario import RichHarness, Scenario

REPLAY_BOUND = 10.0
"""Seconds any one replay of a damaged recording may take (they take milliseconds)."""


async def _record(scenario: Scenario, store: SignalStore, recording_id: str) -> Any:
    recording = Recording(mode="record", store=store, recording_id=recording_id)
    return await scenario.workflow.run_reactive(
        **scenario.options(harness=RichHarness(jitter=0), recording=recording)
    )


async def _replay_outcome(scenario: Scenario, store: SignalStore, recording_id: str) -> Any:
    """Replay without a run timeout (nothing else bounds it) and say how it ended: the final
    state, or the kind of error."""
    with trio.fail_after(REPLAY_BOUND):
        try:
            result = await scenario.workflow.run_reactive(
                **scenario.options(
                    recording=Recording(mode="replay", store=store, recording_id=recording_id),
                    timeout=None,
                )
            )
        except ReplayDivergenceError as exc:
            return ("divergence", str(exc))
        except StoreError as exc:
            return ("store", str(exc))
    return ("state", result.state)


async def test_a_jsonl_recording_cut_at_any_line_boundary_never_hangs(
    tmp_path: Path, scenario: Scenario
) -> None:
    """Cut after each of its lines (a writer killed between writes), a JSONL recording reads
    as incomplete, and its replay ends at once: with the recorded state when every call
    survived the cut, else with ReplayDivergenceError or StoreError."""
    source = JsonlSignalStore(tmp_path / "source")
    recorded = await _record(scenario, source, "cut")
    lines = source.path_for("cut").read_bytes().splitlines(keepends=True)
    kinds: Counter[str] = Counter()
    for keep in range(1, len(lines)):
        directory = tmp_path / f"cut{keep}"
        store = JsonlSignalStore(directory)
        directory.mkdir()
        store.path_for("cut").write_bytes(b"".join(lines[:keep]))
        assert (await store.info("cut")).status == "recording"
        kind, detail = await _replay_outcome(scenario, store, "cut")
        kinds[kind] += 1
        if kind == "state":
            assert detail == recorded.state
        elif kind == "divergence" and "incomplete" in detail:
            kinds["incomplete"] += 1
    assert kinds["incomplete"] > 0  # cuts inside a call say the recording is incomplete
    assert kinds["state"] > 0  # a cut after the last call still replays in full


def _flip(data: bytes, rng: random.Random, places: list[int] | None = None) -> bytes:
    """``data`` with one random bit flipped, or (one time in five) one byte overwritten; at
    one of ``places`` when given."""
    damaged = bytearray(data)
    where = rng.choice(places) if places is not None else rng.randrange(len(damaged))
    if rng.random() < 0.2:
        damaged[where] = rng.randrange(256)
    else:
        damaged[where] ^= 1 << rng.randrange(8)
    return bytes(damaged)


async def test_fuzzed_jsonl_recordings_are_refused(tmp_path: Path, scenario: Scenario) -> None:
    """300 seeded single-byte damages of a JSONL recording: every one is refused with a
    StoreError when the recording is read (the per-line digests), in bounded time."""
    source = JsonlSignalStore(tmp_path / "source")
    await _record(scenario, source, "fuzz")
    original = source.path_for("fuzz").read_bytes()
    rng = random.Random(14)
    store = JsonlSignalStore(tmp_path / "damaged")
    (tmp_path / "damaged").mkdir()
    kinds: Counter[str] = Counter()
    for _ in range(300):
        damaged = _flip(original, rng)
        if damaged == original:
            continue
        store.path_for("fuzz").write_bytes(damaged)
        kind, _detail = await _replay_outcome(scenario, store, "fuzz")
        kinds[kind] += 1
    assert set(kinds) == {"store"}, kinds


async def test_fuzzed_sqlite_recordings_replay_right_or_fail_cleanly(
    tmp_path: Path, scenario: Scenario
) -> None:
    """300 seeded single-byte damages of a SQLite recording file (where it holds data): every
    replay ends in bounded time with the recorded state — the damage hit nothing the
    recording holds, which then loads exactly as written — or with a StoreError (SQLite's
    own checks, or the recording's digests); never with altered content."""
    source_path = tmp_path / "source.db"
    source = SqliteSignalStore(source_path)
    recorded = await _record(scenario, source, "fuzz")
    original = source_path.read_bytes()
    expected = await source.load("fuzz")
    assert not await trio.Path(f"{source_path}-wal").exists()  # all in the main file
    rng = random.Random(1414)
    used = [i for i, byte in enumerate(original) if byte]  # not free space: where data is
    kinds: Counter[str] = Counter()
    for number in range(300):
        damaged = _flip(original, rng, used)
        path = tmp_path / f"damaged{number % 2}.db"
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        path.write_bytes(damaged)
        store = SqliteSignalStore(path)
        kind, detail = await _replay_outcome(scenario, store, "fuzz")
        kinds[kind] += 1
        if kind == "state":
            assert detail == recorded.state
            # Read at all means read unaltered: the digests refuse any changed content.
            assert await store.load("fuzz") == expected
    assert kinds["store"] > 0 and kinds["state"] > 0, kinds
    assert set(kinds) <= {"state", "store", "divergence"}, kinds


async def test_sqlite_content_altered_in_place_is_refused(tmp_path: Path) -> None:
    """A signal's stored JSON changed inside the file (same length: SQLite cannot tell) is
    refused by the recording's digest."""
    path = tmp_path / "r.db"
    store = SqliteSignalStore(path)
    from openharness_actors import RecordingInfo

    from .test_store_contract import make_signals

    await store.create(RecordingInfo(id="r"))
    await store.append("r", make_signals(3))
    await store.finalize("r", status="completed")
    assert (await store.load("r")).info.status == "completed"
    data = path.read_bytes()
    assert data.count(b"h\xc3\xa9llo") >= 1
    path.write_bytes(data.replace(b"h\xc3\xa9llo", b"h\xc3\xa8llo", 1))
    with pytest.raises(StoreError, match="integrity digest"):
        await SqliteSignalStore(path).load("r")


async def test_a_version_1_sqlite_file_is_upgraded_and_read_unchecked(tmp_path: Path) -> None:
    """A store file written before digests (version 1) is upgraded on open; its recordings
    read as before, and new ones are checked."""
    import sqlite3

    from openharness_actors import RecordingInfo

    from .test_store_contract import make_signals

    path = tmp_path / "old.db"
    store = SqliteSignalStore(path)
    await store.create(RecordingInfo(id="old"))
    await store.append("old", make_signals(2))
    await store.finalize("old", status="completed")
    db = sqlite3.connect(path)  # make it what version 1 wrote
    db.execute("DROP TABLE integrity")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    upgraded = SqliteSignalStore(path)
    assert len((await upgraded.load("old")).signals) == 2
    await upgraded.create(RecordingInfo(id="new"))
    await upgraded.append("new", make_signals(1))
    assert len((await upgraded.load("new")).signals) == 1
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    db.close()


async def test_an_unfinished_recorded_call_does_not_block_a_replay_forever(
    autojump_clock: trio.testing.MockClock, scenario: Scenario
) -> None:
    """A recording whose run timed out with a call in flight, replayed without the timeout
    that ended it, fails with ReplayDivergenceError after a bounded wait instead of hanging;
    with the timeout it still times out the same way."""
    store = MemorySignalStore()
    recording = Recording(mode="record", store=store, recording_id="slow")
    with pytest.raises(WorkflowTimeoutError) as caught:
        await scenario.workflow.run_reactive(
            **scenario.options(harness=RichHarness(hang="gamma"), recording=recording, timeout=5)
        )
    assert caught.value.partial is not None
    replay = Recording(mode="replay", store=store, recording_id="slow")
    start = trio.current_time()
    with pytest.raises(ReplayDivergenceError, match="never finished") as diverged:
        await scenario.workflow.run_reactive(**scenario.options(recording=replay, timeout=None))
    waited = trio.current_time() - start
    assert waited == pytest.approx(unfinished_bound(5000.0), abs=0.5)
    assert diverged.value.agent == "gamma"
    with pytest.raises(WorkflowTimeoutError):
        await scenario.workflow.run_reactive(**scenario.options(recording=replay, timeout=5))
