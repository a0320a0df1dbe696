"""JsonlSignalStore: one diff-friendly file per recording, read strictly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from openharness_actors import JsonlSignalStore, RecordingInfo, StoreError
from openharness_actors.recording._integrity import seal_line

from .test_store_contract import make_signals

_SEAL = re.compile(r',"h":"[0-9a-f]{16}"\}$')


def unsealed(line: str) -> str:
    """A version-2 line without its integrity digest (the one-key JSON object)."""
    return _SEAL.sub("}", line)


def resealed(text: str) -> str:
    """``text`` with every line's digest recomputed: damage a buggy writer could have made."""
    key = ""
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        line, digest = seal_line(key, number, unsealed(line))
        key = digest if number == 1 else key
        lines.append(line + "\n")
    return "".join(lines)


async def write_recording(directory: Path, recording_id: str = "rec-1") -> Path:
    store = JsonlSignalStore(directory)
    await store.create(RecordingInfo(id=recording_id, name="demo", tags=("ci",), created_at=5.0))
    await store.append(recording_id, make_signals(3))
    await store.checkpoint(recording_id, 2, {"b": 1, "a": [2]})
    await store.finalize(recording_id, status="completed", duration_ms=7.0, ended_at=9.0)
    return store.path_for(recording_id)


async def test_file_layout_is_stable(tmp_path: Path) -> None:
    """The file is a versioned header, one line per signal and checkpoint, and an end line;
    every line is compact JSON with sorted keys, then its integrity digest ``h``."""
    path = await write_recording(tmp_path)
    assert path == tmp_path / "rec-1.jsonl"
    sealed = path.read_text(encoding="utf-8").splitlines()
    assert all(_SEAL.search(line) for line in sealed)
    lines = [unsealed(line) for line in sealed]
    header = json.loads(lines[0])
    assert header["format"] == "openharness-actors/recording"
    assert header["version"] == 2
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
    header["version"] = 3
    lines[0] = json.dumps(header) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(StoreError, match=r"rec-1.jsonl:1: format version 3 is newer") as caught:
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
async def test_damage_names_file_and_line(tmp_path: Path, damage, line: int, problem: str) -> None:
    """Truncated, malformed or inconsistent files raise StoreError naming file and line (even
    when every line's digest was recomputed after the damage)."""
    path = await write_recording(tmp_path)
    text = damage(path.read_text(encoding="utf-8"))
    path.write_text(resealed(text) if text.endswith("\n") else text, encoding="utf-8")
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


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        (lambda text: text.replace("héllo", "hello", 1), 2),
        (lambda text: text.replace('"status":"completed"', '"status":"failed"'), 6),
        (lambda text: text.replace('"created_at":5.0', '"created_at":6.0'), 1),
        (lambda lines: lines, 0),
    ],
)
async def test_altered_content_is_refused_by_its_digest(tmp_path: Path, damage, line: int) -> None:
    """Content altered after it was written — a changed value, a status, the header, or a
    line moved — no longer matches its digest: StoreError naming file and line."""
    path = await write_recording(tmp_path)
    text = path.read_text(encoding="utf-8")
    if line == 0:  # swap two signal lines: each is intact, but not where it was written
        lines = text.splitlines(keepends=True)
        lines[1], lines[2] = lines[2], lines[1]
        text, line = "".join(lines), 2
    else:
        text = damage(text)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StoreError, match="integrity digest") as caught:
        await JsonlSignalStore(tmp_path).load("rec-1")
    assert caught.value.location == f"{path}:{line}"


async def test_a_file_cut_at_a_line_boundary_reads_as_incomplete(tmp_path: Path) -> None:
    """Without its end line (the writer died, the file was cut) a recording reads as open:
    status "recording", the signals it has."""
    path = await write_recording(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:3]), encoding="utf-8")
    data = await JsonlSignalStore(tmp_path).load("rec-1")
    assert data.info.status == "recording"
    assert len(data.signals) == 2


async def test_version_1_files_are_still_read_and_continued(tmp_path: Path) -> None:
    """A version-1 file (no digests) is read unchecked, and an open one is continued in its
    own format."""
    header = {
        "format": "openharness-actors/recording",
        "version": 1,
        "recording": {"id": "old", "created_at": 1.0, "tags": [], "metadata": {}},
    }
    path = tmp_path / "old.jsonl"
    signal = make_signals(1)[0]
    path.write_text(
        json.dumps(header) + "\n" + json.dumps({"signal": signal.to_dict()}) + "\n",
        encoding="utf-8",
    )
    store = JsonlSignalStore(tmp_path)
    await store.append("old", make_signals(2)[1:])
    await store.finalize("old", status="completed")
    data = await JsonlSignalStore(tmp_path).load("old")
    assert data.info.status == "completed"
    assert len(data.signals) == 2
    assert not any(_SEAL.search(line) for line in path.read_text().splitlines())
