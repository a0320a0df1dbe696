"""Our engine on the three peer workloads, in the peers' JSON shape (runs in our own venv).

The workloads are the framework sides of ``benchmarks/fanout.py``, ``chain.py`` and
``many_runs.py`` as they are: ``ScriptedHarness`` (zero latency) agents through
``create_workflow``/``run_reactive``, with the complete signal trace recorded and checked
(``len(result.signals)`` is exactly 7 N + 2, 8 N + 2 and 26 per run). Timed like every peer
(``peerlib.measure``: process CPU time, best of R, one fresh ``trio.run`` per measurement).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import chain as chain_case
import fanout as fanout_case
import many_runs as many_runs_case
import trio
from benchlib import Case
from peerlib import Build, main


def _build(case: Case) -> Build:
    def build(n: int) -> Callable[[], tuple[int, dict[str, Any]]]:
        runner = case.framework(n)

        def run() -> tuple[int, dict[str, Any]]:
            outcome = trio.run(runner)
            return outcome.units, {**outcome.checks, "signals": outcome.signals}

        return run

    return build


BUILDS: dict[str, Build] = {
    "fanout": _build(fanout_case.CASE),
    "chain": _build(chain_case.CASE),
    "many-runs": _build(many_runs_case.CASE),
}

if __name__ == "__main__":
    main("openharness_actors", f"openharness_actors {version('openharness_actors')}", BUILDS)
