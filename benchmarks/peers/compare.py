"""Our engine, the bare-trio floor and the peers on one table: ``benchmarks/run.py --peers``.

Every implementation runs as a child process printing JSON lines (``peerlib``): our engine
(``engine.py``) and the floor (``floor.py``) with this interpreter, each peer with
``benchmarks/peers/.venv/bin/python`` (made by ``setup.sh``). A peer whose venv or package is
absent is skipped with a note. ``rounds`` > 1 runs the whole sequence again and keeps each
implementation's best figure (for a shared machine). The table: µs per activation (per run
for many-runs) of each implementation, then ours divided by the floor and by the best peer. ``floor+trace`` (the floor
logging the engine's complete trace synchronously, ``floor.py --trace``) is shown for reference.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PEERS", "VENV_PYTHON", "compare", "format_peers_table"]

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE / ".venv" / "bin" / "python"
OURS = "openharness_actors"
FLOOR = "floor"
TRACED_FLOOR = "floor+trace"
PEERS = {
    "pydantic-graph": ("pydantic_graph_peer.py", "pydantic_graph"),
    "autogen-core": ("autogen_peer.py", "autogen_core"),
    "langgraph": ("langgraph_peer.py", "langgraph"),
    "llamaindex-workflows": ("llamaindex_peer.py", "workflows"),
}
"""Peer name -> (script, module that must import in the peers' venv)."""
WORKLOADS = ("fanout", "chain", "many-runs")


def _run(python: str, script: str, arguments: Sequence[str]) -> list[dict[str, Any]]:
    script, *flags = script.split()
    completed = subprocess.run(
        [python, str(HERE / script), *flags, *arguments], capture_output=True, text=True
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"{script} failed with exit code {completed.returncode}")
    records = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    for record in records:
        print(json.dumps(record), flush=True)
    return records


def _peer_available(module: str) -> str | None:
    """None when the peer can run, else why not."""
    if not VENV_PYTHON.exists():
        return f"no {VENV_PYTHON.relative_to(HERE.parent.parent)} (run benchmarks/peers/setup.sh)"
    probe = subprocess.run(
        [str(VENV_PYTHON), "-c", f"import {module}"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"`import {module}` fails in the peers' venv"
    return None


def compare(n: int, repeat: int, rounds: int = 1) -> tuple[list[dict[str, Any]], list[str]]:
    """Measure everything; return the JSON records (best per impl and workload) and notes."""
    arguments = ["--n", str(n), "--repeat", str(repeat)]
    notes: list[str] = []
    runnable: list[tuple[str, str, str]] = [
        (OURS, sys.executable, "engine.py"),
        (FLOOR, sys.executable, "floor.py"),
        (TRACED_FLOOR, sys.executable, "floor.py --trace"),
    ]
    for name, (script, module) in PEERS.items():
        why = _peer_available(module)
        if why is None:
            runnable.append((name, str(VENV_PYTHON), script))
        else:
            notes.append(f"{name} skipped: {why}")
    best: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(max(1, rounds)):
        for _name, python, script in runnable:
            for record in _run(python, script, arguments):
                key = (record["impl"], record["workload"])
                if key not in best or record["us_per_unit"] < best[key]["us_per_unit"]:
                    best[key] = record
    load = os.getloadavg()
    notes.append(
        f"n = {n}, best of {repeat} x {max(1, rounds)} round(s), process CPU time; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    return list(best.values()), notes


def format_peers_table(records: Sequence[Mapping[str, Any]], markdown: bool = False) -> str:
    """One row per workload: µs per unit of every implementation, ours / floor, ours / best."""
    by = {(r["impl"], r["workload"]): r for r in records}
    impls = [OURS, FLOOR, TRACED_FLOOR] + [p for p in PEERS if any(k[0] == p for k in by)]
    headers = ["workload", "unit", *impls, "ours/floor", "ours/best peer"]
    rows = []
    for workload in WORKLOADS:
        if (OURS, workload) not in by:
            continue
        ours = by[(OURS, workload)]["us_per_unit"]
        cells = [workload, by[(OURS, workload)]["unit"]]
        for impl in impls:
            record = by.get((impl, workload))
            cells.append("-" if record is None else f"{record['us_per_unit']:,.1f}")
        floor = by.get((FLOOR, workload))
        cells.append("-" if floor is None else f"{ours / floor['us_per_unit']:.2f}x")
        peers = [by[(p, workload)] for p in PEERS if (p, workload) in by]
        if peers:
            top = min(peers, key=lambda r: r["us_per_unit"])
            cells.append(f"{ours / top['us_per_unit']:.2f}x ({top['impl']})")
        else:
            cells.append("-")
        rows.append(cells)
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
