"""``batch``: a workflow over a JSONL file, with results, resume and --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .cli_helpers import CASES, Cli


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


@pytest.mark.ray
@pytest.mark.timeout(180)
async def test_batch_on_ray_with_two_workers(cli: Cli, tmp_path: Path) -> None:
    """--ray --workers 2 runs the file's workflow (shipped by value) on a local Ray cluster
    of two workers: same results file and summary as in-process, each case run once."""
    pytest.importorskip("ray")
    write_inputs(tmp_path / "in.jsonl", ["one", "two", "three", "please fail", "five"])
    done = await cli(
        "batch", CASES, "--inputs", "in.jsonl", "--results", "out.jsonl",
        "--ray", "--workers", "2", "--json", "-q",
    )  # fmt: skip
    assert done.code == 1, done.err
    summary = done.json()
    assert summary["metrics"]["cases"] == 5 and summary["metrics"]["succeeded"] == 4
    assert [f["case_id"] for f in summary["failures"]] == ["3"]
    results = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(r["case_id"] for r in results) == ["0", "1", "2", "3", "4"]
    assert {r["state"]["answer"] for r in results if r["case_id"] == "1"} == {"A: owt"}
    assert sorted(cli.calls()) == sorted(
        f"Q: {q}" for q in ["one", "two", "three", "please fail", "five"]
    )


async def test_batch_workers_without_ray_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    """--workers without --ray exits 2 before anything runs."""
    write_inputs(tmp_path / "in.jsonl", ["one"])
    done = await cli("batch", CASES, "--inputs", "in.jsonl", "--workers", "2")
    assert done.code == 2 and "--workers needs --ray" in done.err
    assert cli.calls() == []
