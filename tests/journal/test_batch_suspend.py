"""Batches of runs that wait for outside input: with ``journal=`` and ``on_wait="suspend"``
a case that falls quiet waiting is recorded ``suspended`` (counted apart from succeeded and
failed), and running the batch again resumes it from its journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from openharness_actors import Journal, ScriptedHarness, SqliteSignalStore, run_batch

from .approvalflow import AGENTS, OPTIONS, echo, wf

STOP_WHEN_PUBLISHED: dict[str, Any] = {**OPTIONS, "end_when": lambda s: s.final is not None}
INPUTS = [{"topic": "ai"}, {"topic": "bees"}]


async def _batch(store: SqliteSignalStore, results: Path, harness: ScriptedHarness) -> Any:
    return await run_batch(
        wf,
        INPUTS,
        agents=AGENTS,
        harness=harness,
        journal=Journal(store),
        results_path=results,
        **STOP_WHEN_PUBLISHED,
    )


async def test_suspended_cases_are_counted_and_resumed_by_a_second_batch(tmp_path: Path) -> None:
    """Both cases suspend after their writer: status ``suspended``, neither succeeded nor
    failed, written so to the results file. One case is then resumed with its approval; the
    batch run again collects it (finished, from the journal: no call made) and finds the
    other still suspended (resumed, it suspends again at once: no call either)."""
    store = SqliteSignalStore(tmp_path / "journal.db")
    results = tmp_path / "results.jsonl"
    first = ScriptedHarness(default=echo)
    batch = await _batch(store, results, first)
    assert sorted(c.agent for c in first.calls) == ["writer", "writer"]
    metrics = batch.metrics
    assert (metrics.cases, metrics.succeeded, metrics.failed, metrics.suspended) == (2, 0, 0, 2)
    assert batch.failures == []
    assert [(c.case_id, c.status, c.run_id) for c in batch.suspended] == [
        ("0", "suspended", "case-0"),
        ("1", "suspended", "case-1"),
    ]
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["suspended", "suspended"]

    resumer = ScriptedHarness(default=echo)
    approved = await wf.resume(
        "case-0",
        journal=Journal(store),
        agents=AGENTS,
        harness=resumer,
        signals=[("approval:granted", {"note": "ok"})],
        **STOP_WHEN_PUBLISHED,
    )
    assert [c.agent for c in resumer.calls] == ["publisher"]
    assert approved.status == "terminated"

    again = ScriptedHarness(default=echo)
    second = await _batch(store, results, again)
    assert again.calls == []
    by_case = {c.case_id: c for c in second.results}
    assert by_case["0"].status == "terminated"
    assert by_case["0"].state["final"] == "<publish <write ai> (ok)>"
    assert by_case["1"].status == "suspended" and by_case["1"].state["final"] is None
    metrics = second.metrics
    assert (metrics.succeeded, metrics.failed, metrics.suspended, metrics.ran) == (1, 0, 1, 2)
