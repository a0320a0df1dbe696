"""Batch runs with recordings and journals: each case's recording is named in its result, and
an interrupted journaled case resumes without repeating its completed harness calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import trio

from openharness_actors import (
    HarnessRequest,
    Journal,
    Recording,
    ScriptedHarness,
    SqliteSignalStore,
    create_workflow,
    run_batch,
)


@attrs.frozen
class Job:
    id: int
    topic: str
    outline: str | None = None
    draft: str | None = None


wf = create_workflow(Job)
agents = {
    "outline": wf.agent(
        prompt="Outline {{ topic }}",
        activate_on=["workflow:start"],
        updates="outline",
        emits=["outlined"],
    ),
    "draft": wf.agent(prompt="Draft from {{ outline }}", activate_on=["outlined"], updates="draft"),
}


def jobs(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "topic": f"topic {i}"} for i in range(n)]


async def test_each_case_names_its_recording(tmp_path: Path) -> None:
    """With recording=, every case's result and results line carry its recording id, and that
    recording replays to the same state with no harness."""
    store = SqliteSignalStore(tmp_path / "recordings.db")
    batch = await run_batch(
        wf,
        jobs(5),
        agents=agents,
        harness=ScriptedHarness(default=lambda r: f"<{r.prompt}>"),
        recording=Recording(mode="record", store=store),
        results_path=tmp_path / "results.jsonl",
    )
    ids = [r.recording_id for r in batch.results]
    assert None not in ids and len(set(ids)) == 5
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert {line["recording_id"] for line in lines} == set(ids)
    assert all(line["run_id"] for line in lines)
    case = batch.results[3]
    assert case.recording_id is not None
    replayed = await wf.run_reactive(
        agents=agents,
        state=Job(3, "topic 3"),
        recording=Recording(mode="replay", store=store, recording_id=case.recording_id),
    )
    assert attrs.asdict(replayed.state) == case.state


async def test_interrupted_journaled_case_resumes_from_its_journal(tmp_path: Path) -> None:
    """A batch cancelled while case 1 waits on its second call resumes case 1 from its
    journal: its first call is not made again, and the finished cases are not rerun."""
    journal = Journal(SqliteSignalStore(tmp_path / "journal.db"))
    seen = {"draft 1 started": False, "done": 0}
    scope = trio.CancelScope()

    def cancel_once_case_1_waits_and_the_others_are_done() -> None:
        if seen["draft 1 started"] and seen["done"] == 2:
            scope.cancel()

    async def slow_draft_for_1(request: HarnessRequest) -> str:
        if "topic 1" in request.prompt:
            seen["draft 1 started"] = True
            cancel_once_case_1_waits_and_the_others_are_done()
            await trio.sleep(30)
        return f"<{request.prompt}>"

    def progress(snapshot: Any) -> None:
        seen["done"] = snapshot.done
        cancel_once_case_1_waits_and_the_others_are_done()

    first = ScriptedHarness({"outline": lambda r: f"<{r.prompt}>", "draft": slow_draft_for_1})
    options: dict[str, Any] = {
        "agents": agents,
        "journal": journal,
        "results_path": tmp_path / "results.jsonl",
    }
    with scope:
        await run_batch(wf, jobs(3), harness=first, progress=progress, **options)
    assert first.count("outline") == 3
    second = ScriptedHarness(default=lambda r: f"<{r.prompt}>")
    batch = await run_batch(wf, jobs(3), harness=second, **options)
    assert batch.metrics.ran == 1 and batch.metrics.succeeded == 3
    assert [r.prompt for r in second.calls] == ["Draft from <Outline topic 1>"]
    assert batch.results[1].state["draft"] == "<Draft from <Outline topic 1>>"
    assert batch.results[1].run_id == "case-1"
