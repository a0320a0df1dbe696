"""The benchmark scripts keep working: each runs its smoke mode (tiny sizes) to completion.

Timing is never asserted; the scripts themselves verify that nothing was lost (every key
written, every signal delivered, exact reducer totals) and exit non-zero otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
CASES = ["fanout", "chain", "many_runs", "contention", "burst"]


def _run(script: str, *args: str) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert completed.returncode == 0, completed.stderr
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("case", CASES)
def test_case_smoke_mode_runs_and_verifies(case: str) -> None:
    """Each case script's --smoke mode measures both implementations and reports a ratio."""
    records = _run(f"{case}.py", "--smoke")
    assert records
    for record in records:
        assert record["smoke"] is True
        assert record["ratio"] > 0
        for impl in ("baseline", "framework"):
            assert record[impl]["signals"] > 0
            assert record[impl]["peak_rss_kb"] > 0


def test_many_runs_smoke_reports_memory_per_run() -> None:
    """many-runs measures memory per concurrent run for both implementations."""
    (record,) = _run("many_runs.py", "--smoke", "--json-only")
    for impl in ("baseline", "framework"):
        assert record[impl]["concurrent_runs"] == record["n"]
        assert "kb_per_run" in record[impl]


def test_run_py_smoke_collects_every_case_into_one_table() -> None:
    """run.py --smoke runs every case script and prints the combined Markdown table."""
    only = "fanout,chain,many_runs,contention,burst"
    completed = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "run.py"),
            "--smoke",
            "--no-probes",
            "--markdown",
            "--only",
            only,
        ],
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert completed.returncode == 0, completed.stderr
    names = {
        json.loads(line)["case"] for line in completed.stdout.splitlines() if line.startswith("{")
    }
    assert {"fanout", "chain", "many-runs", "contention", "burst"} <= names
    assert "| case |" in completed.stdout
