"""``openharness-actors trace ID|NAME``: a recording's signals as a causality tree.

Every signal's ``source.parent`` is the id of the signal that caused it (``workflow:start`` is
the root), so the log is a forest: each signal is printed under its cause, children in broker
order. ``--exclude PATTERN`` hides signals (``text:delta``, say); their children move up to
the nearest shown ancestor. A signal whose parent is not in the recording starts a tree of
its own. The walk is iterative, so a long chain cannot exhaust the recursion limit, and past
:data:`MAX_DRAWN_DEPTH` levels lines stop moving right and show their depth as ``<n>``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence

from .._core._signal import Signal
from .._define._pattern import compile_pattern
from ._format import signal_line
from ._store import RECORDING_HELP, STORE_HELP, open_store, recording_id_for

__all__ = ["MAX_DRAWN_DEPTH", "causality_tree", "register"]

MAX_DRAWN_DEPTH = 30
"""Deeper signals (long loops) are not indented further; ``<depth>`` marks them instead."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``trace`` command."""
    parser = commands.add_parser(
        "trace",
        help="print a recording's trace as a causality tree",
        description="Print a recording's signals as a tree: each signal under the signal "
        "that caused it, with its agent and a short payload.",
    )
    parser.add_argument("recording_id", metavar="ID|NAME", help=RECORDING_HELP)
    parser.add_argument("--store", metavar="PATH", help=STORE_HELP)
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="hide signals matching PATTERN (repeat), e.g. 'text:delta'",
    )
    parser.add_argument(
        "--width", type=int, default=60, metavar="N", help="payload characters (0: none)"
    )
    parser.set_defaults(handler=trace_command)


async def trace_command(args: argparse.Namespace) -> int:
    """Print the tree of one recording."""
    store = open_store(args.store, must_exist=True)
    signals = await store.load_signals(await recording_id_for(store, args.recording_id))
    hidden = [compile_pattern(p) for p in args.exclude]
    shown = [s for s in signals if not any(p.matches(s.name) for p in hidden)]
    out = sys.stdout
    for line in causality_tree(shown, all_signals=signals, width=args.width):
        out.write(line + "\n")
    out.flush()
    return 0


def causality_tree(
    signals: Sequence[Signal], *, all_signals: Sequence[Signal] | None = None, width: int = 60
) -> Iterator[str]:
    """The lines of the tree of ``signals``; ``all_signals`` (default: the same) is used to
    lift the children of signals left out of ``signals`` to their nearest shown ancestor."""
    every = {s.id: s for s in (all_signals if all_signals is not None else signals)}
    shown = {s.id for s in signals}

    def shown_parent(signal: Signal) -> str | None:
        parent = signal.parent
        seen: set[str] = set()
        while parent is not None and parent not in shown and parent in every:
            if parent in seen:  # a malformed cycle: stop lifting
                return None
            seen.add(parent)
            parent = every[parent].parent
        return parent if parent in shown else None

    children: dict[str | None, list[Signal]] = {}
    for signal in signals:
        children.setdefault(shown_parent(signal), []).append(signal)
    for group in children.values():
        group.sort(key=lambda s: s.seq)

    # (signal, depth, prefix of its line, prefix of its children's lines)
    stack: list[tuple[Signal, int, str, str]] = [
        (root, 0, "", "") for root in reversed(children.get(None, []))
    ]
    while stack:
        signal, depth, lead, indent = stack.pop()
        marker = f"<{depth}> " if depth > MAX_DRAWN_DEPTH else ""
        yield lead + marker + signal_line(signal, width)
        kids = children.get(signal.id, [])
        for position, kid in reversed(list(enumerate(kids))):
            last = position == len(kids) - 1
            branch, below = ("└─ ", "   ") if last else ("├─ ", "│  ")
            if depth >= MAX_DRAWN_DEPTH:  # stop indenting; the marker tells the depth
                below = ""
            stack.append((kid, depth + 1, indent + branch, indent + below))
