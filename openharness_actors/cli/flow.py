"""``openharness-actors check`` and ``graph``: a workflow file's signal flow, before it runs.

``check path.py[:NAME]`` loads the target as ``run`` does (``_target``), runs
``workflow.check`` with its agents and reducers and prints one finding per line; the exit code
is 1 when any finding is a warning (``self_wake``, ``unreachable``), else 0. ``--external
PATTERN`` (repeatable) declares signals that come from outside the run.

``graph path.py[:NAME] [--format mermaid|dot]`` prints ``workflow.graph``; with ``--recording
ID`` (and ``--store``) each agent's box shows how often it activated in that recording
(counted from its ``agent:activated`` signals). Neither command calls a model.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from ._options import wrap
from ._store import STORE_HELP, open_store
from ._target import TARGET_HELP, load_target

__all__ = ["check_command", "graph_command", "register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``check`` and ``graph`` commands."""
    check = commands.add_parser(
        "check",
        help="analyse a workflow's signal flow (self-waking, unreachable, unconsumed)",
        description=wrap(
            "Analyse the signal flow of a workflow file without running it: agents whose "
            "patterns match signals their own activation produces (self_wake), agents no "
            "signal can wake (unreachable), emits nobody listens to (unconsumed, info). "
            "Exit code 1 when any warning is found."
        ),
        epilog=TARGET_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("target", metavar="path.py[:NAME]", help="the workflow to check")
    _external_option(check)
    check.set_defaults(handler=check_command)

    graph = commands.add_parser(
        "graph",
        help="print a workflow's signal flow as a Mermaid or DOT diagram",
        description=wrap(
            "Print the signal flow of a workflow file as a diagram: agents as boxes, edges "
            "labelled with the signals that connect them, workflow:start and joins drawn apart. "
            "With --recording, each agent shows its activation count in that recording."
        ),
        epilog=TARGET_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    graph.add_argument("target", metavar="path.py[:NAME]", help="the workflow to draw")
    graph.add_argument("--format", choices=("mermaid", "dot"), default="mermaid")
    graph.add_argument("--recording", metavar="ID", help="overlay activation counts from it")
    graph.add_argument("--store", metavar="PATH", help=STORE_HELP)
    _external_option(graph)
    graph.set_defaults(handler=graph_command)


def _external_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--external",
        action="append",
        default=[],
        metavar="PATTERN",
        help="a signal pattern that may come from outside the run (repeat)",
    )


async def check_command(args: argparse.Namespace) -> int:
    """Print the findings; 1 when any is a warning."""
    target = load_target(args.target)
    findings = target.workflow.check(
        agents=target.options["agents"],
        reducers=target.options.get("reducers"),
        external=args.external,
    )
    for finding in findings:
        print(finding)
    warnings = sum(1 for f in findings if f.severity == "warning")
    agents = len(target.options["agents"])
    summary = f"{args.target}: {agents} agent(s), {warnings} warning(s), {len(findings)} finding(s)"
    print(summary, file=sys.stderr)
    return 1 if warnings else 0


async def graph_command(args: argparse.Namespace) -> int:
    """Print the diagram."""
    target = load_target(args.target)
    activations: dict[str, int] | None = None
    if args.recording is not None:
        store = open_store(args.store, must_exist=True)
        signals = await store.load_signals(args.recording, pattern="agent:activated")
        activations = dict(Counter(str(s.payload.get("agent")) for s in signals))
    sys.stdout.write(
        target.workflow.graph(
            target.options["agents"],
            args.format,
            reducers=target.options.get("reducers"),
            external=args.external,
            activations=activations,
        )
    )
    sys.stdout.flush()
    return 0
