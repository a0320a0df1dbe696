"""The batch-vs-plain benchmark keeps running (smoke mode; its timings are never asserted)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import trio

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "batch_vs_plain.py"


async def test_batch_vs_plain_smoke_mode_runs() -> None:
    """--smoke runs both sides, verifies half the cost and no plain call, prints two rows."""
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
    rows = [json.loads(line) for line in done.stdout.decode().splitlines() if line.startswith("{")]
    assert [row["case"] for row in rows] == ["batch", "plain"]
    assert rows[0]["cost_usd"] == rows[1]["cost_usd"] / 2
    assert rows[0]["plain_calls"] == 0
