"""Run every benchmark case and print one table: ``python benchmarks/run.py [options]``.

Each case script runs in its own child process (so its peak RSS is its own); its JSON lines are
collected, echoed, and summarised in one table. ``llm_bound.py`` (the Claude-harness case
against the fake Messages API, another shape of result) runs last when it exists: it gets only
``--smoke``, its own table is echoed and its JSON lines go to ``--output`` with the others.

Options: ``--smoke`` (tiny sizes, one repetition: a check that everything still runs),
``--repeat N``, ``--no-probes`` (skip the RSS child processes), ``--markdown`` (the table in
Markdown, as in README.md), ``--only fanout,chain`` (a subset), ``--output FILE`` (also write the
JSON lines to FILE).

``--peers`` runs instead our engine (fanout, chain, many-runs with the full trace), the bare-trio
floor and the peer frameworks installed by ``benchmarks/peers/setup.sh`` on the same three
workloads and prints one table with the ratios (``peers/compare.py``); ``--n`` (default 1000),
``--repeat`` (default 3) and ``--rounds`` (default 1) apply, ``--smoke`` means n = 10, once.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchlib import format_table

HERE = Path(__file__).resolve().parent
CASES = ("fanout", "chain", "many_runs", "contention", "burst")
"""Cases built on benchlib: same options, same JSON shape, one table."""
OTHERS = ("llm_bound",)
"""Scripts with their own options and table, run when present (``--smoke`` passed on)."""


def scripts(names: tuple[str, ...], only: set[str] | None) -> list[Path]:
    """The scripts among ``names`` that exist (and are selected by ``only``), in order."""
    found = []
    for name in names:
        if only is not None and name not in only and name.replace("_", "-") not in only:
            continue
        path = HERE / f"{name}.py"
        if path.exists():
            found.append(path)
    return found


def run_case(script: Path, arguments: list[str], echo_all: bool = False) -> list[dict[str, Any]]:
    """Run one script and return its JSON records; they are echoed (everything with
    ``echo_all``), and its stderr too if it fails."""
    completed = subprocess.run(
        [sys.executable, str(script), *arguments],
        capture_output=True,
        text=True,
    )
    records = []
    for line in completed.stdout.splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
        if echo_all or line.startswith("{"):
            print(line, flush=True)
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr)
        raise SystemExit(f"{script.name} failed with exit code {completed.returncode}")
    return records


def run_peers(args: argparse.Namespace) -> None:
    """``--peers``: the engine, the floor and every installed peer, one table."""
    sys.path.insert(0, str(HERE / "peers"))
    from compare import compare, format_peers_table

    n, repeat = (10, 1) if args.smoke else (args.n, args.repeat or 3)
    records, notes = compare(n, repeat, args.rounds)
    print()
    print(format_peers_table(records, markdown=args.markdown), flush=True)
    for note in notes:
        print(f"note: {note}")
    if args.output is not None:
        args.output.write_text("".join(json.dumps(r) + "\n" for r in records))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--no-probes", action="store_true")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--output", type=Path, help="also write the JSON lines here")
    parser.add_argument("--peers", action="store_true", help="engine vs floor vs peer frameworks")
    parser.add_argument("--n", type=int, default=1000, help="size of the --peers workloads")
    parser.add_argument("--rounds", type=int, default=1, help="--peers: rounds, best kept")
    args = parser.parse_args()
    if args.peers:
        run_peers(args)
        return
    passthrough = []
    if args.smoke:
        passthrough.append("--smoke")
    if args.repeat is not None:
        passthrough += ["--repeat", str(args.repeat)]
    if args.no_probes:
        passthrough.append("--no-probes")
    only = set(args.only.split(",")) if args.only else None
    records: list[dict[str, Any]] = []
    for script in scripts(CASES, only):
        records += run_case(script, ["--json-only", *passthrough])
    print()
    print(format_table(records, markdown=args.markdown), flush=True)
    for script in scripts(OTHERS, only):
        print()
        records += run_case(script, ["--smoke"] if args.smoke else [], echo_all=True)
    if args.output is not None:
        args.output.write_text("".join(json.dumps(r) + "\n" for r in records))


if __name__ == "__main__":
    main()
