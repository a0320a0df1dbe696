"""``openharness-actors recordings list|show|delete``: what a recording store holds.

Read-only commands refuse a store that does not exist (exit 5) instead of creating an empty
one; a recording that does not exist is a store error too (exit 5).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._errors import StoreError
from ..recording import RecordingInfo
from ._format import format_duration, format_time, pretty_json, signal_line, write_json
from ._store import RECORDING_HELP, STORE_HELP, open_store, recording_id_for

__all__ = ["register"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``recordings`` command group."""
    group = commands.add_parser(
        "recordings",
        help="list, show and delete recordings",
        description="Inspect and manage the recordings in a store.",
    )
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="list recordings, newest first")
    listing.add_argument("--name", help="only recordings with this name")
    listing.add_argument(
        "--tag", action="append", default=[], metavar="TAG", help="only with this tag (repeat)"
    )
    listing.add_argument(
        "--status",
        help="only with this status (recording, completed, failed, cancelled, suspended, ...)",
    )
    listing.add_argument("--limit", type=_count, default=20, help="at most N (default 20)")
    listing.add_argument("--offset", type=_count, default=0, help="skip the first N")
    listing.add_argument("--json", action="store_true", help="write a JSON array")
    listing.add_argument("--store", metavar="PATH", help=STORE_HELP)
    listing.set_defaults(handler=list_command)

    show = actions.add_parser("show", help="a recording's info and signals")
    show.add_argument("recording_id", metavar="ID|NAME", help=RECORDING_HELP)
    show.add_argument("--pattern", help="only signals whose name matches PATTERN")
    show.add_argument(
        "--width", type=_count, default=80, metavar="N", help="payload characters (0: none)"
    )
    show.add_argument("--json", action="store_true", help="write info and signals as JSON")
    show.add_argument("--store", metavar="PATH", help=STORE_HELP)
    show.set_defaults(handler=show_command)

    delete = actions.add_parser(
        "delete",
        help="delete recordings",
        description="Delete recordings. Every one must exist, or none is deleted.",
    )
    delete.add_argument("recording_ids", metavar="ID|NAME", nargs="+", help=RECORDING_HELP)
    delete.add_argument("--store", metavar="PATH", help=STORE_HELP)
    delete.set_defaults(handler=delete_command)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


async def list_command(args: argparse.Namespace) -> int:
    """List recordings (filters and paging as given)."""
    store = open_store(args.store, must_exist=True)
    infos = await store.list(
        name=args.name, tags=args.tag, status=args.status, limit=args.limit, offset=args.offset
    )
    if args.json:
        write_json([info.to_dict() for info in infos], sys.stdout)
        return 0
    if not infos:
        print("no recordings")
        return 0
    rows = [_row(info) for info in infos]
    header = ("ID", "NAME", "STATUS", "SIGNALS", "CREATED", "DURATION", "TAGS")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _row(info: RecordingInfo) -> tuple[str, ...]:
    return (
        info.id,
        info.name or "-",
        info.status,
        str(info.signal_count),
        format_time(info.created_at),
        format_duration(info.duration_ms),
        ",".join(info.tags) or "-",
    )


async def show_command(args: argparse.Namespace) -> int:
    """Print one recording's info and its signals (optionally those matching a pattern)."""
    store = open_store(args.store, must_exist=True)
    recording_id = await recording_id_for(store, args.recording_id)
    info = await store.info(recording_id)
    signals = await store.load_signals(recording_id, pattern=args.pattern)
    if args.json:
        document: dict[str, Any] = {
            "info": info.to_dict(),
            "signals": [signal.to_dict() for signal in signals],
        }
        write_json(document, sys.stdout)
        return 0
    fields = {
        "id": info.id,
        "name": info.name or "-",
        "tags": ", ".join(info.tags) or "-",
        "status": info.status,
        "run": info.run_id or "-",
        "created": format_time(info.created_at),
        "ended": format_time(info.ended_at),
        "duration": format_duration(info.duration_ms),
        "signals": str(info.signal_count),
    }
    for key, value in fields.items():
        print(f"{key + ':':<10}{value}")
    if info.metadata:
        print(f"{'metadata:':<10}{pretty_json(dict(info.metadata))}")
    shown = f" matching {args.pattern!r}" if args.pattern else ""
    print(f"\n{len(signals)} signal(s){shown}:")
    for signal in signals:
        print("  " + signal_line(signal, args.width))
    return 0


async def delete_command(args: argparse.Namespace) -> int:
    """Delete recordings, after checking that every one exists: a missing one is a store
    error naming every missing one, and then nothing is deleted."""
    store = open_store(args.store, must_exist=True)
    found: list[str] = []
    missing: list[str] = []
    for value in args.recording_ids:
        try:
            found.append(await recording_id_for(store, value))
        except StoreError:
            missing.append(value)
    if missing:
        raise StoreError(
            f"no recording {', '.join(repr(m) for m in missing)} in {store!r}; nothing deleted",
            location=", ".join(missing),
        )
    for recording_id in dict.fromkeys(found):  # once each, in the order given
        if await store.delete(recording_id):
            print(f"deleted {recording_id}")
        else:  # deleted by someone else meanwhile: the outcome asked for holds
            print(f"deleted {recording_id} (already gone)")
    return 0
