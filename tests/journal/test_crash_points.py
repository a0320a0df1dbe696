"""Crash points: kill a journaled run with SIGKILL at many points, resume, same final state."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from openharness_actors import Journal, ScriptedHarness, SqliteSignalStore, StoreError
from openharness_actors.journal._journal import list_journals
from openharness_actors.recording._replay import ReplayIndex

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
_spec = importlib.util.spec_from_file_location("crashflow", HERE / "crashflow.py")
assert _spec is not None and _spec.loader is not None
crashflow: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(crashflow)


def completed_asks(db: Path, run_id: str) -> set[tuple[str, str]]:
    """(agent, prompt) of every call with a journaled result."""

    async def read() -> set[tuple[str, str]]:
        store = SqliteSignalStore(db)
        done: set[tuple[str, str]] = set()
        for info in await list_journals(store, run_id):
            index = ReplayIndex(await store.load(info.id))
            for ask, calls in index.calls.items():
                if any(call.result is not None for call in calls):
                    done.add((ask.agent, ask.prompt))
        return done

    return trio.run(read)


def uninterrupted_state() -> Any:
    result = trio.run(
        lambda: crashflow.workflow.run_reactive(
            agents=crashflow.AGENTS,
            state=crashflow.Work("tea"),
            harness=ScriptedHarness(default=crashflow.answer),
        )
    )
    return result.state


KILL_POINTS = [None, 0.0, 0.02, 0.04, 0.06, 0.09, 0.12, 0.16, 0.2, 0.25, 0.3, 0.4]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("kill_at", KILL_POINTS)
def test_kill_and_resume(kill_at: float | None, tmp_path: Path) -> None:
    """SIGKILL at many points (seconds after the first harness call; None: at once); resume
    repeats no completed call and ends with the uninterrupted run's state."""
    db = tmp_path / "journal.db"
    calls_file = tmp_path / "calls.txt"
    calls_file.touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "crashflow.py"), str(db), "job", str(calls_file)], env=env
    )
    deadline = time.monotonic() + 60
    while kill_at is not None and proc.poll() is None and time.monotonic() < deadline:
        if calls_file.read_text():
            time.sleep(kill_at)
            break
        time.sleep(0.001)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    done = completed_asks(db, "job") if db.exists() else set()
    resumed = ScriptedHarness(default=crashflow.answer)
    journal = Journal(SqliteSignalStore(db))
    try:
        result = trio.run(
            lambda: crashflow.workflow.resume(
                "job", journal=journal, agents=crashflow.AGENTS, harness=resumed
            )
        )
    except StoreError:
        # Killed before the journal existed: nothing had run, so start it afresh.
        assert not done
        result = trio.run(
            lambda: crashflow.workflow.run_reactive(
                agents=crashflow.AGENTS,
                state=crashflow.Work("tea"),
                harness=resumed,
                journal=journal,
                run_id="job",
            )
        )
    repeated = {(r.agent, r.prompt) for r in resumed.calls} & done
    assert not repeated, f"completed calls made again: {repeated}"
    journals = trio.run(list_journals, SqliteSignalStore(db), "job")
    assert all(info.finished for info in journals), [(i.id, i.status) for i in journals]
    assert result.state == uninterrupted_state()
    assert len(done) + resumed.count() >= 8


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_resume_finalizes_the_killed_attempt(tmp_path: Path) -> None:
    """After a resume, the killed attempt's journal is finalized as 'interrupted' instead of
    staying 'recording' forever, and ``recordings list`` shows no open journal."""
    db = tmp_path / "journal.db"
    calls_file = tmp_path / "calls.txt"
    calls_file.touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "crashflow.py"), str(db), "job", str(calls_file)], env=env
    )
    deadline = time.monotonic() + 60
    while not calls_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.001)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    store = SqliteSignalStore(db)
    (killed,) = trio.run(list_journals, store, "job")
    assert killed.status == "recording"
    result = trio.run(
        lambda: crashflow.workflow.resume(
            "job",
            journal=Journal(store),
            agents=crashflow.AGENTS,
            harness=ScriptedHarness(default=crashflow.answer),
        )
    )
    assert result.status == "completed"
    first, resumed = trio.run(list_journals, store, "job")
    assert (first.id, first.status) == ("job", "interrupted")
    assert resumed.status == "completed"
    listed = subprocess.run(
        [sys.executable, "-m", "openharness_actors", "recordings", "list", "--store", str(db)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert " recording " not in listed.stdout and "interrupted" in listed.stdout
