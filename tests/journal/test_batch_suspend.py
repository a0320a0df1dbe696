"""Batches of runs that wait for outside input: with ``journal=`` and ``on_wait="suspend"``
a case that falls quiet waiting is recorded ``suspended`` (counted apart from succeeded and
failed), and running the batch again resumes it from its journal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs

from openharness_actors import (
    HarnessRequest,
    Journal,
    ScriptedHarness,
    SqliteSignalStore,
    create_workflow,
    run_batch,
)


@attrs.frozen
class Review:
    id: str
    topic: str
    draft: str | None = None
    final: str | None = None


wf = create_workflow(Review)
AGENTS: dict[str, Any] = {
    "writer": wf.agent(
        prompt="write {{ topic }}",
        activate_on="workflow:start",
        updates="draft",
        emits=["approval:requested"],
    ),
    "publisher": wf.agent(
        prompt="publish {{ draft }} ({{ signal.payload.note }})",
        activate_on="approval:granted",
        updates="final",
    ),
}
OPTIONS: dict[str, Any] = {
    "external": ["approval:*"],
    "on_wait": "suspend",
    "end_when": lambda s: s.final is not None,
}
INPUTS = [{"id": "a", "topic": "ai"}, {"id": "b", "topic": "bees"}]


def echo(request: HarnessRequest) -> str:
    return f"<{request.prompt}>"


async def test_suspended_cases_are_counted_and_resumed_by_a_second_batch(tmp_path: Path) -> None:
    """Both cases suspend after their writer: status ``suspended``, neither succeeded nor
    failed, written so to the results file. One case is then resumed with its approval; the
    batch run again collects it (finished, from the journal: no call made) and finds the
    other still suspended (resumed, it suspends again at once: no call either)."""
    store = SqliteSignalStore(tmp_path / "journal.db")
    results = tmp_path / "results.jsonl"
    first = ScriptedHarness(default=echo)
    batch = await run_batch(
        wf,
        INPUTS,
        agents=AGENTS,
        harness=first,
        journal=Journal(store),
        results_path=results,
        **OPTIONS,
    )
    assert sorted(c.agent for c in first.calls) == ["writer", "writer"]
    metrics = batch.metrics
    assert (metrics.cases, metrics.succeeded, metrics.failed, metrics.suspended) == (2, 0, 0, 2)
    assert batch.failures == []
    assert [(c.case_id, c.status, c.run_id) for c in batch.suspended] == [
        ("a", "suspended", "case-a"),
        ("b", "suspended", "case-b"),
    ]
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["suspended", "suspended"]

    resumer = ScriptedHarness(default=echo)
    approved = await wf.resume(
        "case-a",
        journal=Journal(store),
        agents=AGENTS,
        harness=resumer,
        signals=[("approval:granted", {"note": "ok"})],
        **OPTIONS,
    )
    assert [c.agent for c in resumer.calls] == ["publisher"]
    assert approved.status == "terminated"

    again = ScriptedHarness(default=echo)
    second = await run_batch(
        wf,
        INPUTS,
        agents=AGENTS,
        harness=again,
        journal=Journal(store),
        results_path=results,
        **OPTIONS,
    )
    assert again.calls == []
    by_case = {c.case_id: c for c in second.results}
    assert by_case["a"].status == "terminated"
    assert by_case["a"].state["final"] == "<publish <write ai> (ok)>"
    assert by_case["b"].status == "suspended" and by_case["b"].state["final"] is None
    metrics = second.metrics
    assert (metrics.succeeded, metrics.failed, metrics.suspended, metrics.ran) == (1, 0, 1, 2)
