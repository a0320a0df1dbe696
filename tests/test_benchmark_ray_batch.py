"""The Ray batch benchmark runs (smoke mode) on the session's cluster and reports its figures."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "ray_batch.py"


@pytest.mark.ray
@pytest.mark.timeout(150)
def test_ray_batch_benchmark_smoke(ray_cluster: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks/ray_batch.py --smoke`` times 200 cases locally, on 1 and on 2 Ray workers
    and on a warm pool of 2, and prints JSON lines, the per-case overhead, the start-up a warm
    pool saves and a table."""
    spec = importlib.util.spec_from_file_location("ray_batch_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--smoke"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {
        row["run"]: row for row in map(json.loads, (line for line in out if line.startswith("{")))
    }
    assert set(rows) == {"local", "ray-1", "ray-2", "ray-2-warm", "summary"}
    for name in ("local", "ray-1", "ray-2", "ray-2-warm"):
        assert rows[name]["cases"] == 200
        assert rows[name]["cases_per_s"] > 0 and rows[name]["ms_per_case"] > 0
    assert rows["summary"]["cluster_start_s"] is None  # reused the session's cluster
    assert isinstance(rows["summary"]["ray_overhead_ms_per_case"], float)
    assert isinstance(rows["summary"]["warm_start_saved_s"], float)
    assert rows["summary"]["pool_start_s"] > 0
    assert any(line.startswith("Ray overhead per case") for line in out)
    assert any(line.startswith("Warm pool of 2") for line in out)
