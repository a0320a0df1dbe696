"""The store API: every store (memory, SQLite, JSONL) honours the same semantics."""

from __future__ import annotations

import pytest
import trio

from openharness_actors import RecordingInfo, Signal, SignalSource, SignalStore, StoreError
from openharness_actors.recording import Checkpoint


def make_signals(count: int, run_id: str = "run_1", start: int = 0) -> list[Signal]:
    names = ["workflow:start", "agent:activated", "text:delta", "state:x:changed", "custom:ping"]
    return [
        Signal(
            id=f"sig_{run_id}_{seq}",
            name=names[seq % len(names)],
            payload={"n": seq, "nested": {"list": [1, 2.5, None, True]}, "text": "héllo ✓"},
            timestamp=1_700_000_000.123456 + seq,
            seq=seq,
            run_id=run_id,
            source=SignalSource(agent="a" if seq % 2 else None, harness=None, parent=None),
        )
        for seq in range(start, start + count)
    ]


async def test_create_append_load_round_trip(store: SignalStore) -> None:
    """Signals appended in batches load back equal and in order, with the info counting
    them and the recording open until finalized."""
    created = await store.create(RecordingInfo(id="rec-1", name="demo", tags=("a", "b")))
    assert created.status == "recording"
    assert created.created_at > 0
    signals = make_signals(12)
    await store.append("rec-1", signals[:5])
    await store.append("rec-1", signals[5:])
    await store.append("rec-1", [])
    data = await store.load("rec-1")
    assert data.signals == tuple(signals)
    assert data.info.signal_count == 12
    assert data.info.status == "recording"
    assert not data.info.finished
    assert data.info.tags == ("a", "b")
    assert (await store.info("rec-1")).signal_count == 12


async def test_load_signals_by_range_and_pattern(store: SignalStore) -> None:
    """load_signals selects by index range [start, stop) and by the usual pattern dialect."""
    await store.create(RecordingInfo(id="rec-1"))
    signals = make_signals(20)
    await store.append("rec-1", signals)
    assert await store.load_signals("rec-1", start=3, stop=7) == signals[3:7]
    assert await store.load_signals("rec-1", start=18) == signals[18:]
    assert await store.load_signals("rec-1", start=25) == []
    assert await store.load_signals("rec-1", pattern="*:delta") == [
        s for s in signals if s.name == "text:delta"
    ]
    assert await store.load_signals("rec-1", start=5, stop=15, pattern="state:**") == [
        s for s in signals[5:15] if s.name.startswith("state:")
    ]
    with pytest.raises(StoreError):
        await store.load_signals("rec-1", start=-1)


async def test_checkpoint_and_finalize(store: SignalStore) -> None:
    """Checkpoints load back in order; finalize sets status, duration and end time, and a
    finalized recording refuses appends, checkpoints and a second finalize."""
    await store.create(RecordingInfo(id="rec-1"))
    await store.append("rec-1", make_signals(4))
    await store.checkpoint("rec-1", 1, {"x": 1})
    await store.checkpoint("rec-1", 3, {"x": [1, 2]})
    final = await store.finalize("rec-1", status="timeout", duration_ms=12.5, ended_at=99.0)
    assert final.status == "timeout"
    assert final.finished
    assert final.duration_ms == 12.5
    assert final.ended_at == 99.0
    data = await store.load("rec-1")
    assert data.checkpoints == (Checkpoint(1, {"x": 1}), Checkpoint(3, {"x": [1, 2]}))
    assert data.info == final
    with pytest.raises(StoreError, match="finalized"):
        await store.append("rec-1", make_signals(1))
    with pytest.raises(StoreError, match="finalized"):
        await store.checkpoint("rec-1", 4, {})
    with pytest.raises(StoreError, match="finalized"):
        await store.finalize("rec-1", status="completed")
    await store.create(RecordingInfo(id="rec-2"))
    with pytest.raises(StoreError, match="final status"):
        await store.finalize("rec-2", status="recording")


async def test_missing_duplicate_and_invalid_ids(store: SignalStore) -> None:
    """A missing recording, a duplicate create and an invalid id raise StoreError naming the
    recording; exists and delete report what was there."""
    assert not await store.exists("nope")
    with pytest.raises(StoreError, match="no recording 'nope'") as caught:
        await store.load("nope")
    assert caught.value.location is not None
    with pytest.raises(StoreError):
        await store.append("nope", make_signals(1))
    await store.create(RecordingInfo(id="rec-1"))
    with pytest.raises(StoreError, match="already exists"):
        await store.create(RecordingInfo(id="rec-1"))
    for bad in ("", "../escape", ".hidden", "a/b", "x" * 200):
        with pytest.raises(StoreError, match="invalid recording id"):
            await store.exists(bad)
    assert await store.exists("rec-1")
    assert await store.delete("rec-1")
    assert not await store.delete("rec-1")
    assert not await store.exists("rec-1")


async def test_list_filters_orders_and_pages(store: SignalStore) -> None:
    """list is newest first and filters by name, by every tag given and by status, then
    pages with offset and limit."""
    for number in range(7):
        await store.create(
            RecordingInfo(
                id=f"rec-{number}",
                name="even" if number % 2 == 0 else "odd",
                tags=("all", f"t{number % 3}"),
                created_at=1000.0 + number,
            )
        )
    await store.finalize("rec-4", status="completed")
    assert [i.id for i in await store.list()] == [f"rec-{n}" for n in range(6, -1, -1)]
    assert [i.id for i in await store.list(name="odd")] == ["rec-5", "rec-3", "rec-1"]
    assert [i.id for i in await store.list(tags=["all", "t0"])] == ["rec-6", "rec-3", "rec-0"]
    assert [i.id for i in await store.list(tags="t1")] == ["rec-4", "rec-1"]
    assert [i.id for i in await store.list(status="completed")] == ["rec-4"]
    assert [i.id for i in await store.list(limit=2, offset=1)] == ["rec-5", "rec-4"]
    assert [i.id for i in await store.list(name="even", offset=3)] == ["rec-0"]
    assert await store.list(limit=0) == []
    assert await store.list(name="nobody") == []
    with pytest.raises(StoreError):
        await store.list(limit=-1)


async def test_concurrent_recordings_do_not_mix(store: SignalStore) -> None:
    """Several recordings written by concurrent tasks each hold exactly their own signals."""

    async def write(number: int) -> None:
        recording_id = f"rec-{number}"
        await store.create(RecordingInfo(id=recording_id))
        for batch in range(5):
            await store.append(recording_id, make_signals(3, f"run{number}", start=batch * 3))
        await store.finalize(recording_id, status="completed")

    async with trio.open_nursery() as nursery:
        for number in range(6):
            nursery.start_soon(write, number)
    for number in range(6):
        data = await store.load(f"rec-{number}")
        assert data.signals == tuple(make_signals(15, f"run{number}"))
        assert data.info.status == "completed"
