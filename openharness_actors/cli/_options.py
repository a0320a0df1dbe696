"""Options several commands share: the target and run limits, output, progress."""

from __future__ import annotations

import argparse
import textwrap

from .._core._run import DEFAULT_MAX_ACTIVATIONS
from ..harness.choose import HARNESS_CHOICES

__all__ = [
    "activation_limit",
    "add_run_options",
    "add_signals_option",
    "positive_float",
    "positive_int",
    "wrap",
]


def positive_float(text: str) -> float:
    """argparse type: a number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {text}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {text}")
    return value


def activation_limit(text: str) -> int | None:
    """argparse type: an integer >= 1, or ``none`` for no limit."""
    if text.strip().lower() == "none":
        return None
    return positive_int(text)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options ``run`` and ``batch`` share: the target, limits and output."""
    parser.add_argument("target", metavar="path.py[:NAME]", help="the workflow to run")
    parser.add_argument("--timeout", type=positive_float, metavar="SECONDS", help="per run")
    parser.add_argument(
        "--max-activations",
        type=activation_limit,
        default=DEFAULT_MAX_ACTIVATIONS,
        metavar="N",
        help=f"loop guard, per run (default {DEFAULT_MAX_ACTIVATIONS}; 'none': unbounded)",
    )
    parser.add_argument(
        "--harness",
        choices=HARNESS_CHOICES,
        help="the harness instead of the file's: anthropic (ANTHROPIC_API_KEY), claude-code "
        "(a Claude Code login), auto (the first of those found, else the file's)",
    )
    parser.add_argument("--json", action="store_true", help="write the result as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def add_signals_option(parser: argparse.ArgumentParser) -> None:
    """``--signals``, for the commands that show one run's progress."""
    parser.add_argument(
        "--signals",
        action="store_true",
        help="progress as one line per signal instead of the live view",
    )


def wrap(text: str) -> str:
    """A description wrapped for ``RawDescriptionHelpFormatter`` (which keeps line breaks)."""
    return textwrap.fill(text, width=88)
