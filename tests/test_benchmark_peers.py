"""The peer-comparison benchmark keeps working: the bare-trio floor and ``run.py --peers``'s
machinery, at tiny sizes (the peer frameworks themselves are never run in the test suite).

Timing is never asserted; the floor verifies its own work (every key written, the counter
at N, every run complete) and exits non-zero otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PEERS = Path(__file__).resolve().parent.parent / "benchmarks" / "peers"


def _floor(*args: str) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [sys.executable, str(PEERS / "floor.py"), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 0, completed.stderr
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def test_floor_prints_one_json_record_per_workload() -> None:
    """floor.py at a tiny size prints a verified JSON line per workload in the peers' shape."""
    records = _floor("--n", "7", "--repeat", "2")
    assert [r["workload"] for r in records] == ["fanout", "chain", "many-runs"]
    checks = {
        "fanout": {"written": 7, "signals": 0},
        "chain": {"counter": "7", "signals": 0},
        "many-runs": {"runs": 7, "signals": 0},
    }
    for record in records:
        assert record["impl"] == "floor"
        assert record["version"].startswith("trio ")
        assert record["n"] == record["units"] == 7
        assert record["unit"] == ("run" if record["workload"] == "many-runs" else "activation")
        assert len(record["cpu_s"]) == len(record["wall_s"]) == 2
        assert record["us_per_unit"] == round(min(record["cpu_s"]) / 7 * 1e6, 2)
        assert record["us_per_unit"] > 0
        assert record["checks"] == checks[record["workload"]]


def test_floor_runs_one_chosen_workload() -> None:
    """--workload selects the workloads measured."""
    (record,) = _floor("--n", "3", "--repeat", "1", "--workload", "chain")
    assert record["workload"] == "chain"
    assert record["checks"] == {"counter": "3", "signals": 0}


def test_traced_floor_logs_the_engines_signal_count() -> None:
    """floor.py --trace logs as many signals as the engine's trace of the same workload."""
    records = _floor("--trace", "--n", "5", "--repeat", "1")
    assert {r["impl"] for r in records} == {"floor+trace"}
    signals = {r["workload"]: r["checks"]["signals"] for r in records}
    assert signals == {"fanout": 7 * 5 + 2, "chain": 8 * 5 + 2, "many-runs": 26 * 5}


def test_compare_skips_absent_peers_and_rates_the_engine_against_the_floor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the peers' venv, compare() still measures engine and floor, notes each skipped
    peer, and the table gives ours/floor from the two measurements."""
    monkeypatch.syspath_prepend(str(PEERS))
    import compare

    monkeypatch.setattr(compare, "VENV_PYTHON", PEERS / "no-such-venv" / "bin" / "python")
    records, notes = compare.compare(4, 1)
    impls = {(r["impl"], r["workload"]) for r in records}
    ours = ("openharness_actors", "floor", "floor+trace")
    assert impls == {(i, w) for i in ours for w in compare.WORKLOADS}
    assert sum("skipped" in note for note in notes) == len(compare.PEERS)
    table = compare.format_peers_table(records, markdown=True)
    by = {(r["impl"], r["workload"]): r["us_per_unit"] for r in records}
    ratio = by[("openharness_actors", "chain")] / by[("floor", "chain")]
    chain_row = next(line for line in table.splitlines() if line.startswith("| chain |"))
    assert f"{ratio:.2f}x" in chain_row
    assert chain_row.endswith("| - |")
