"""The LLM-bound benchmark keeps running (smoke mode; its timings are never asserted)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import trio

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "llm_bound.py"


async def test_llm_bound_smoke_mode_runs() -> None:
    """--smoke runs every case and prints one JSON line each, then the table."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHROPIC_")}
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-W", "error", str(SCRIPT), "--smoke"],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env=env,
        )
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    rows = [json.loads(line) for line in lines if line.startswith("{")]
    assert [row["case"] for row in rows] == ["sdk", "harness", "workflow"]
    for row in rows:
        assert row["n"] == 8
        assert row["wall_s"] > 0
        assert row["cpu_per_call_ms"] >= 0
    assert any(line.split()[:1] == ["case"] for line in lines)
