"""JsonlSignalStore: one diff-friendly file per recording, read strictly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_store_contract import make_signals

from openharness_actors import JsonlSignalStore, RecordingInfo, StoreError


async def write_recording(directory: Path, recording_id: str = "rec-1") -> Path:
    store = JsonlSignalStore(directory)
    await store.create(RecordingInfo(id=recording_id, name="demo", tags=("ci",), created_at=5.0))
    await store.append(recording_id, make_signals(3))
    await store.checkpoint(recording_id, 2, {"b": 1, "a": [2]})
    await store.finalize(recording_id, status="completed", duration_ms=7.0, ended_at=9.0)
    return store.path_for(recording_id)


async def test_file_layout_is_stable(tmp_path: Path) -> None:
    """The file is a versioned header, one line per signal and checkpoint, and an end line;
    every line is compact JSON with sorted keys."""
    path = await write_recording(tmp_path)
    assert path == tmp_path / "rec-1.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "openharness-actors/recording"
    assert header["version"] == 1
    assert header["recording"]["name"] == "demo"
    assert [next(iter(json.loads(line))) for line in lines[1:]] == [
        "signal",
        "signal",
        "signal",
        "checkpoint",
        "end",
    ]
    assert json.loads(lines[-1]) == {
        "end": {"duration_ms": 7.0, "ended_at": 9.0, "signal_count": 3, "status": "completed"}
    }
    for line in lines:
        assert line == json.dumps(
            json.loads(line), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
    assert "héllo ✓" in lines[1]


async def test_another_store_object_reads_and_continues(tmp_path: Path) -> None:
    """A second store object on the directory reads what the first wrote, and can continue an
    open recording the first created."""
    first = JsonlSignalStore(tmp_path)
    await first.create(RecordingInfo(id="open"))
    await first.append("open", make_signals(2))
    second = JsonlSignalStore(tmp_path)
    assert (await second.info("open")).signal_count == 2
    await second.append("open", make_signals(2, start=2))
    await second.finalize("open", status="completed")
    assert (await first.load("open")).signals == tuple(make_signals(4))
    assert [i.id for i in await first.list(status="completed")] == ["open"]


async def test_newer_version_is_refused(tmp_path: Path) -> None:
    """A header with a newer format version is refused, naming file and line 1."""
    path = await write_recording(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = json.loads(lines[0])
    header["version"] = 2
    lines[0] = json.dumps(header) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(StoreError, match=r"rec-1.jsonl:1: format version 2 is newer") as caught:
        await JsonlSignalStore(tmp_path).load("rec-1")
    assert caught.value.location == f"{path}:1"


@pytest.mark.parametrize(
    ("damage", "line", "problem"),
    [
        (lambda text: text[:-5], 6, "truncated"),
        (lambda text: text.replace('"signal":{', '"signal":[', 1), 2, "not valid JSON"),
        (lambda text: text.replace('"seq":1,', '"seq":"one",', 1), 3, "not a valid signal"),
        (lambda text: text + '{"signal":{}}\n', 7, "follows the 'end' line"),
        (lambda text: text.replace('"signal_count":3', '"signal_count":4'), 6, "counts 4 signals"),
        (lambda text: "", 1, "empty"),
        (lambda text: '{"format":"something-else"}\n', 1, "not an openharness_actors recording"),
        (lambda text: text.replace('"signal":', '"sígnal":', 1), 2, "expected"),
    ],
)
async def test_damage_names_file_and_line(tmp_path: Path, damage, line: int, problem: str) -> None:  # type: ignore[no-untyped-def]
    """Truncated, malformed or inconsistent files raise StoreError naming file and line."""
    path = await write_recording(tmp_path)
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(StoreError, match=problem) as caught:
        await JsonlSignalStore(tmp_path).load("rec-1")
    assert caught.value.location == f"{path}:{line}"
    assert str(caught.value).startswith(f"{path}:{line}: ")


async def test_list_on_missing_directory_is_empty(tmp_path: Path) -> None:
    """Listing a directory that does not exist yet gives no recordings; the first create
    makes it."""
    store = JsonlSignalStore(tmp_path / "not-yet")
    assert await store.list() == []
    await store.create(RecordingInfo(id="r"))
    assert (tmp_path / "not-yet" / "r.jsonl").is_file()
