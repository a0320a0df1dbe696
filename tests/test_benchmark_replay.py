"""The replay benchmark runs (smoke mode) and reports every case as a JSON line and a table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "replay.py"


def test_replay_benchmark_smoke() -> None:
    """``benchmarks/replay.py --smoke`` replays a 10-agent workflow from every store and prints
    one JSON line per case (median, p95, budget) followed by a table."""
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), "--smoke"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    rows = [json.loads(line) for line in lines if line.startswith("{")]
    assert {(row["case"], row["store"]) for row in rows} == {
        (case, store)
        for case in ("fanout", "pipeline", "diamond")
        for store in ("memory", "sqlite", "jsonl")
    }
    for row in rows:
        assert row["agents"] == 10
        assert row["runs"] == 5
        assert row["budget_ms"] == 20.0
        assert 0 < row["min_ms"] <= row["median_ms"] <= row["p95_ms"]
    assert any(line.startswith("case") and "median ms" in line for line in lines)
