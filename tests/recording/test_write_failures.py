"""Recordings and journals are never lost silently: a store that cannot write fails the run
(or, when told, warns), and values a store cannot hold are refused where they are published."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from openharness_actors import (
    HarnessError,
    Journal,
    JsonlSignalStore,
    Recording,
    SqliteSignalStore,
    StoreError,
    UnstorableValueError,
    create_workflow,
)
from openharness_actors.harness import EventSink, HarnessRequest, HarnessResult


def _chain(error: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = error
    while current is not None:
        found.append(current)
        current = current.__cause__
    return found


def _two_step_workflow(on_first: Any) -> tuple[Any, dict[str, Any]]:
    """A workflow whose first agent calls ``on_first()`` and whose second runs after it."""
    wf = create_workflow(dict)

    def first(ctx: Any) -> str:
        on_first()
        return "one"

    agents = {
        "first": wf.agent(body=first, activate_on=["workflow:start"], emits=["first:done"]),
        "second": wf.agent(body=lambda ctx: "two", activate_on=["first:done"], updates="out"),
    }
    return wf, agents


async def test_a_jsonl_directory_replaced_by_a_file_fails_the_run(tmp_path: Path) -> None:
    """When the JSONL store's directory turns into a file mid-run, the run fails with a
    StoreError naming the store and the recording, chained to the OS error, with partial."""
    directory = tmp_path / "recordings"
    store = JsonlSignalStore(directory)

    def break_the_directory() -> None:
        shutil.rmtree(directory, ignore_errors=True)
        directory.write_text("not a directory any more")

    wf, agents = _two_step_workflow(break_the_directory)
    recording = Recording(mode="record", store=store, recording_id="broken", batch_size=1)
    with pytest.raises(StoreError) as caught:
        await wf.run_reactive(agents=agents, state={"out": None}, recording=recording)
    error = caught.value
    assert "recording 'broken'" in str(error)
    assert "JsonlSignalStore" in str(error)
    assert any(isinstance(e, OSError) for e in _chain(error))
    assert error.partial is not None
    assert error.partial.status == "failed"
    assert error.partial.state == {"out": "two"}
    assert error.partial.signals[-1].name == "workflow:end"


async def test_warn_mode_completes_and_records_the_warning(tmp_path: Path) -> None:
    """With on_write_error="warn" the same broken directory only adds a warning that says
    how many signals were not written."""
    directory = tmp_path / "recordings"
    store = JsonlSignalStore(directory)

    def break_the_directory() -> None:
        shutil.rmtree(directory, ignore_errors=True)
        directory.write_text("not a directory any more")

    wf, agents = _two_step_workflow(break_the_directory)
    recording = Recording(
        mode="record", store=store, recording_id="warned", batch_size=1, on_write_error="warn"
    )
    result = await wf.run_reactive(agents=agents, state={"out": None}, recording=recording)
    assert result.status == "completed"
    assert len(result.warnings) == 1
    warning = result.warnings[0]
    assert "recording 'warned'" in warning
    assert ("could not be created" in warning) or (
        f"of {len(result.signals)} signals could not be written" in warning
    )


async def test_an_unwritable_sqlite_path_fails_the_run(tmp_path: Path) -> None:
    """A SQLite store whose parent path is a file cannot be created: the run fails with
    StoreError chained to the OS error instead of completing without its recording."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    store = SqliteSignalStore(blocker / "recordings.db")
    wf, agents = _two_step_workflow(lambda: None)
    with pytest.raises(StoreError, match="could not be created") as caught:
        await wf.run_reactive(
            agents=agents,
            state={"out": None},
            recording=Recording(mode="record", store=store),
        )
    assert any(isinstance(e, OSError) for e in _chain(caught.value))
    assert caught.value.partial is not None


@pytest.mark.parametrize("durability", ["async", "exit"])
async def test_an_async_or_exit_journal_that_cannot_write_fails_the_run(
    tmp_path: Path, durability: Any
) -> None:
    """An async or exit journal whose store breaks mid-run fails the run with StoreError."""
    directory = tmp_path / "journal"
    store = JsonlSignalStore(directory)

    def break_the_directory() -> None:
        shutil.rmtree(directory, ignore_errors=True)
        directory.write_text("gone")

    wf, agents = _two_step_workflow(break_the_directory)
    with pytest.raises(StoreError, match="journal") as caught:
        await wf.run_reactive(
            agents=agents,
            state={"out": None},
            journal=Journal(store=store, durability=durability),
        )
    assert caught.value.partial is not None
    assert any(isinstance(e, OSError) for e in _chain(caught.value))


async def test_a_lone_surrogate_is_refused_where_it_is_published(tmp_path: Path) -> None:
    """A state value with a lone surrogate fails the run with UnstorableValueError naming
    the agent and the key; the recording holds every other signal and is finalized."""
    store = SqliteSignalStore(tmp_path / "r.db")
    wf = create_workflow(dict)
    agents = {
        "writer": wf.agent(
            body=lambda ctx: "bad \udc80 text", activate_on=["workflow:start"], updates="out"
        )
    }
    recording = Recording(mode="record", store=store, recording_id="surrogate")
    with pytest.raises(UnstorableValueError) as caught:
        await wf.run_reactive(agents=agents, state={"out": None}, recording=recording)
    error = caught.value
    assert error.agent == "writer"
    assert error.key == "['output']"  # refused at agent:completed, before the update applies
    assert "lone surrogate" in str(error) and "'writer'" in str(error)
    assert error.partial is not None and error.partial.status == "failed"
    info = await store.info("surrogate")
    assert info.status == "failed"
    assert info.signal_count == len(error.partial.signals)


async def test_a_huge_int_output_is_refused_naming_agent_and_key(tmp_path: Path) -> None:
    """An agent output past Python's int-to-string limit is refused at agent:completed."""
    store = SqliteSignalStore(tmp_path / "r.db")
    wf = create_workflow(dict)
    agents = {"counter": wf.agent(body=lambda ctx: {"n": 10**5000}, activate_on=["workflow:start"])}
    with pytest.raises(UnstorableValueError, match="int of more than 4300 digits") as caught:
        await wf.run_reactive(
            agents=agents, state={}, recording=Recording(mode="record", store=store)
        )
    assert caught.value.agent == "counter"
    assert caught.value.key == "['output']['n']"
    assert caught.value.signal == "agent:completed"


async def test_the_same_values_pass_a_live_run() -> None:
    """Without a recording nothing is stored, so nothing is checked: a live run with the
    same surrogate completes (live runs do not pay for the check)."""
    wf = create_workflow(dict)
    agents = {
        "writer": wf.agent(
            body=lambda ctx: "bad \udc80 text", activate_on=["workflow:start"], updates="out"
        )
    }
    result = await wf.run_reactive(agents=agents, state={"out": None})
    assert result.state == {"out": "bad \udc80 text"}


class _Opaque:
    """Not JSON data."""


class _OpaqueEvent:
    signal_name: ClassVar[str] = "custom:event"

    def payload(self) -> dict[str, Any]:
        return {"thing": [1, _Opaque()]}


class _OpaqueHarness:
    name = "opaque"
    model = None

    def preflight(self) -> None:
        pass

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        await emit(_OpaqueEvent())
        return HarnessResult(output="never")


async def test_a_custom_event_with_a_non_json_payload_is_refused(tmp_path: Path) -> None:
    """A harness event whose payload is not JSON fails its harness call with the refusal
    (naming agent and key) as the cause, instead of breaking the recording's writer."""
    store = JsonlSignalStore(tmp_path / "j")
    wf = create_workflow(dict)
    agents = {"asker": wf.agent(prompt="hi", activate_on=["workflow:start"])}
    with pytest.raises(HarnessError) as caught:
        await wf.run_reactive(
            agents=agents,
            state={},
            harness=_OpaqueHarness(),
            recording=Recording(mode="record", store=store, recording_id="opaque"),
        )
    cause = caught.value.__cause__
    assert isinstance(cause, UnstorableValueError)
    assert cause.agent == "asker" and cause.key == "['thing'][1]"
    assert "_Opaque" in str(cause)
    data = await store.load("opaque")
    assert data.info.status == "failed"
    assert caught.value.partial is not None
    assert [s.name for s in data.signals] == [s.name for s in caught.value.partial.signals]


_FULL_DISK_SCRIPT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
import trio
from openharness_actors import create_workflow, Journal, Recording, SqliteSignalStore
from openharness_actors import JsonlSignalStore, StoreError

kind, mode, path = sys.argv[1], sys.argv[2], sys.argv[3]
store = SqliteSignalStore(path + "/r.db") if kind == "sqlite" else JsonlSignalStore(path)
wf = create_workflow(dict)
agents = {
    "small": wf.agent(body=lambda ctx: "ok", activate_on=["workflow:start"], emits=["go"]),
    "big": wf.agent(body=lambda ctx: "x" * 400_000, activate_on=["go"], updates="out"),
}

async def main():
    if mode == "journal":
        options = {"journal": Journal(store=store, durability="sync")}
    else:
        options = {"recording": Recording(mode="record", store=store, recording_id="rec-f")}
    # Room for the schema and the first signals, not for the big output: a full disk.
    resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
    try:
        await wf.run_reactive(agents=agents, state={"out": None}, **options)
    except StoreError as exc:
        chain, cur = [], exc
        while cur is not None:
            chain.append(type(cur).__name__ + ": " + str(cur))
            cur = cur.__cause__
        print("STORE-ERROR", exc.partial is not None and exc.partial.status)
        print("\\n".join(chain))
        return
    print("NO-ERROR")

trio.run(main)
"""


@pytest.mark.parametrize(
    ("kind", "mode"), [("sqlite", "record"), ("jsonl", "record"), ("sqlite", "journal")]
)
def test_a_full_disk_fails_the_run_with_the_disk_error(
    tmp_path: Path, kind: str, mode: str
) -> None:
    """A file-size limit (RLIMIT_FSIZE, how a full disk looks to a writer) fails a recorded
    or sync-journaled run with StoreError chained to the real disk error — not
    SQLite's "cannot rollback" and not a silent success."""
    script = tmp_path / "full.py"
    script.write_text(textwrap.dedent(_FULL_DISK_SCRIPT))
    target = tmp_path / "store"
    target.mkdir()
    done = subprocess.run(
        [sys.executable, str(script), kind, mode, str(target)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "STORE-ERROR failed", done.stdout
    text = "\n".join(lines)
    assert "cannot rollback" not in text
    disk_error = "disk I/O error" if kind == "sqlite" else "File too large"
    assert disk_error in lines[-1], text


class _SmallDiskStore(SqliteSignalStore):
    """A SQLite store whose database may not grow past a few pages: a full disk as SQLite
    reports it (SQLITE_FULL, after which SQLite has rolled the transaction back itself)."""

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with super()._connect() as db:
            db.execute("PRAGMA max_page_count = 60")
            yield db


async def test_a_full_sqlite_database_reports_the_disk_error(tmp_path: Path) -> None:
    """A sync journal on a full SQLite database fails the run with "database or disk is
    full", not with the "cannot rollback" of a second ROLLBACK."""
    wf = create_workflow(dict)
    agents = {
        "big": wf.agent(
            body=lambda ctx: "x" * 400_000, activate_on=["workflow:start"], updates="out"
        )
    }
    store = _SmallDiskStore(tmp_path / "small.db")
    with pytest.raises(StoreError) as caught:
        await wf.run_reactive(
            agents=agents, state={"out": None}, journal=Journal(store=store, durability="sync")
        )
    messages = [str(e) for e in _chain(caught.value)]
    assert "database or disk is full" in messages[-1]
    assert not any("cannot rollback" in m for m in messages)
    assert caught.value.partial is not None


async def test_a_reducer_value_that_cannot_be_stored_is_refused(tmp_path: Path) -> None:
    """A reducer producing an unstorable value fails the run before the state changes, so
    workflow:end and the finalized recording hold the last storable state."""
    store = SqliteSignalStore(tmp_path / "r.db")
    wf = create_workflow(dict)
    agents = {"pinger": wf.agent(body=lambda ctx: "ping", activate_on=["workflow:start"])}
    recording = Recording(mode="record", store=store, recording_id="reduced")
    with pytest.raises(UnstorableValueError) as caught:
        await wf.run_reactive(
            agents=agents,
            state={"log": "start"},
            reducers={"agent:completed": lambda state, signal: {"log": "\ud800"}},
            recording=recording,
        )
    assert caught.value.key == "['new_value']"
    assert caught.value.agent == "pinger"
    partial = caught.value.partial
    assert partial is not None and partial.state == {"log": "start"}
    data = await store.load("reduced")
    assert data.info.status == "failed"
    assert data.signals[-1].payload["state"] == {"log": "start"}


def test_on_write_error_is_validated() -> None:
    """on_write_error accepts "fail" or "warn"; anything else is a definition error."""
    from openharness_actors import WorkflowDefinitionError

    assert Recording(on_write_error="warn").on_write_error == "warn"
    assert Journal(on_write_error="warn").on_write_error == "warn"
    with pytest.raises(WorkflowDefinitionError, match="on_write_error must be 'fail' or 'warn'"):
        Recording(on_write_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(WorkflowDefinitionError, match="on_write_error must be 'fail' or 'warn'"):
        Journal(on_write_error="ignore")  # type: ignore[arg-type]
