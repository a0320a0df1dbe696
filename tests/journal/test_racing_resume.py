"""Resume of a racing run: the journaled prefix is re-derived signal for signal, whatever the
killed attempt's activations raced, and no completed call is made again."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from openharness_actors import Journal, ScriptedHarness, SqliteSignalStore
from openharness_actors._core._schedule import schedule_of
from openharness_actors.journal._journal import list_journals
from openharness_actors.recording._replay import ReplayIndex

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
_spec = importlib.util.spec_from_file_location("racingflow", HERE / "racingflow.py")
assert _spec is not None and _spec.loader is not None
racingflow: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(racingflow)

VOLATILE = {"duration_ms", "delay", "elapsed", "timestamp"}


def shape(signals: Any) -> list[tuple[Any, ...]]:
    seq_of = {s.id: s.seq for s in signals}
    return [
        (
            s.name,
            s.source.agent,
            None if s.source.parent is None else seq_of.get(s.source.parent, "?"),
            json.dumps({k: v for k, v in s.payload.items() if k not in VOLATILE}, sort_keys=True),
        )
        for s in signals
    ]


def journaled_results(db: Path) -> int:
    """How many harness results the journal holds so far (read while the run writes)."""
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as connection:
            row = connection.execute(
                "SELECT COUNT(*) FROM signals WHERE name = 'harness:end'"
            ).fetchone()
    except sqlite3.Error:
        return 0
    return int(row[0])


async def journal_data(db: Path, run_id: str) -> tuple[list[Any], set[tuple[str, str]]]:
    """The killed attempt's log (what a resume re-derives) and its completed asks."""
    store = SqliteSignalStore(db)
    (info,) = await list_journals(store, run_id)
    data = await store.load(info.id)
    done = {
        (ask.agent, ask.prompt)
        for ask, calls in ReplayIndex(data).calls.items()
        if any(call.result is not None for call in calls)
    }
    return list(data.signals), done


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("seed", "kill_after"), [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 6)])
def test_killed_racing_run_resumes_its_prefix_exactly(
    seed: int, kill_after: int, tmp_path: Path
) -> None:
    """SIGKILL once n harness results are journaled; resume re-derives the journaled prefix exactly,
    repeats no completed call, and ends consistent (the decision quotes the order it saw)."""
    db = tmp_path / "journal.db"
    calls_file = tmp_path / "calls.txt"
    calls_file.touch()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "racingflow.py"), str(db), "job", str(calls_file), str(seed)],
        env=env,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if journaled_results(db) >= kill_after:
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    journaled, done = trio.run(journal_data, db, "job")
    prefix = schedule_of(journaled, for_resume=True)
    resumed = ScriptedHarness(default=racingflow.answer)
    result = trio.run(
        lambda: racingflow.workflow.resume(
            "job",
            journal=Journal(SqliteSignalStore(db)),
            agents=racingflow.AGENTS,
            reducers=racingflow.REDUCERS,
            harness=resumed,
        )
    )
    assert prefix, "killed before anything was journaled: this kill point tests nothing"
    got = shape(result.signals[: len(prefix)])
    assert got == shape(prefix), "the resumed run did not re-derive the journaled prefix"
    repeated = {(r.agent, r.prompt) for r in resumed.calls} & done
    assert not repeated, f"completed calls made again: {repeated}"
    assert len(result.state.order) == 5
    assert result.state.decision is not None
    # The decision last committed quotes the order as of its trigger: a prefix of the final.
    quoted = json.loads(result.state.decision.split("order ", 1)[1].rstrip(">"))
    assert len(quoted) >= 3 and quoted == list(result.state.order[: len(quoted)])
