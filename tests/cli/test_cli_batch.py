"""``batch``: a workflow over a JSONL file, with results, resume and --json."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import CASES, Cli


def write_inputs(path: Path, questions: list[str]) -> None:
    path.write_text(
        "".join(json.dumps({"id": i, "question": q}) + "\n" for i, q in enumerate(questions))
    )


async def test_batch_writes_results_and_resumes_without_running_again(
    cli: Cli, tmp_path: Path
) -> None:
    """A batch with a failing case exits 1; running again resumes every case; --retry-failed
    runs only the failure again."""
    write_inputs(tmp_path / "in.jsonl", ["one", "two", "three", "please fail"])
    args = ("batch", CASES, "--inputs", "in.jsonl", "--results", "out.jsonl", "--concurrency", "2")
    first = await cli(*args)
    assert first.code == 1, first.err
    assert first.out.startswith("4 cases · 3 succeeded · 1 failed · 0 resumed")
    assert "failed 3: HarnessError" in first.out
    assert "batch: 4/4 done, 1 failed" in first.err
    results = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(r["case_id"] for r in results) == ["0", "1", "2", "3"]
    assert len(cli.calls()) == 4

    again = await cli(*args, "--json", "-q")
    assert again.code == 1 and again.err == ""
    summary = again.json()
    assert summary["metrics"]["ran"] == 0 and summary["metrics"]["cases"] == 4
    assert [f["case_id"] for f in summary["failures"]] == ["3"]
    assert len(cli.calls()) == 4  # nothing ran again

    retried = await cli(*args, "--retry-failed", "-q")
    assert retried.code == 1
    assert cli.calls()[4:] == ["Q: please fail"]


async def test_batch_json_without_results_file_lists_every_case(cli: Cli, tmp_path: Path) -> None:
    """--json without --results includes each case's result; all succeeded exits 0."""
    write_inputs(tmp_path / "in.jsonl", ["abc", "xyz"])
    done = await cli("batch", CASES, "--inputs", "in.jsonl", "--json", "-q", "--timeout", "30")
    assert done.code == 0, done.err
    document = done.json()
    assert document["metrics"]["succeeded"] == 2 and document["failures"] == []
    assert [case["state"]["answer"] for case in document["results"]] == ["A: cba", "A: zyx"]
