"""In-process checks of the CLI's pure parts: the trace tree, the exit-code mapping and the
argument parser."""

from __future__ import annotations

import signal

import pytest

from openharness_actors import (
    HarnessError,
    ReplayDivergenceError,
    Signal,
    SignalSource,
    StoreError,
    TemplateError,
    WorkflowTimeoutError,
)
from openharness_actors.cli import ExitCode, main
from openharness_actors.cli._exit import exit_code_for, exit_code_for_signal
from openharness_actors.cli.trace import MAX_DRAWN_DEPTH, causality_tree


def sig(seq: int, name: str, parent: int | None, agent: str | None = None) -> Signal:
    return Signal(
        id=f"s{seq}",
        name=name,
        payload={},
        timestamp=0.0,
        seq=seq,
        run_id="run_x",
        source=SignalSource(agent, None, None if parent is None else f"s{parent}"),
    )


def test_tree_lifts_children_of_hidden_signals_and_roots_orphans() -> None:
    """Children of a left-out signal hang under its nearest shown ancestor; a signal whose
    parent is not in the log starts its own tree."""
    every = [
        sig(0, "workflow:start", None),
        sig(1, "agent:activated", 0, "a"),
        sig(2, "text:delta", 1, "a"),
        sig(3, "child:of:delta", 2, "a"),
        sig(4, "orphan", 99),
        sig(5, "workflow:end", 0),
    ]
    shown = [s for s in every if s.name != "text:delta"]
    assert list(causality_tree(shown, all_signals=every, width=0)) == [
        "[0] workflow:start",
        "├─ [1] agent:activated (a)",
        "│  └─ [3] child:of:delta (a)",
        "└─ [5] workflow:end",
        "[4] orphan",
    ]


def test_tree_of_a_long_chain_neither_recurses_nor_drifts_right() -> None:
    """A 3000-deep causal chain prints without recursion; deep lines show their depth."""
    chain = [sig(0, "workflow:start", None)] + [sig(i, "step", i - 1) for i in range(1, 3000)]
    lines = list(causality_tree(chain, width=0))
    assert len(lines) == 3000
    assert lines[MAX_DRAWN_DEPTH].endswith(f"└─ [{MAX_DRAWN_DEPTH}] step")
    assert lines[-1] == " " * 3 * MAX_DRAWN_DEPTH + "└─ <2999> [2999] step"


def test_exit_codes_pick_the_most_specific_error() -> None:
    """A divergence is a HarnessError but exits 4; template errors are definition errors."""
    assert exit_code_for(ReplayDivergenceError("d")) == ExitCode.REPLAY_DIVERGED.value == 4
    assert exit_code_for(HarnessError("h")) == ExitCode.RUN_FAILED.value == 1
    assert exit_code_for(TemplateError("t", template="{{ x }}")) == ExitCode.USAGE.value == 2
    assert exit_code_for(WorkflowTimeoutError("t", elapsed=1.0)) == ExitCode.TIMEOUT.value == 3
    assert exit_code_for(StoreError("s")) == ExitCode.STORE.value == 5
    assert exit_code_for(KeyboardInterrupt()) == ExitCode.SIGINT.value == 130
    assert exit_code_for_signal(signal.SIGTERM) == ExitCode.SIGTERM.value == 143


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--log-level", "loud", "recordings", "list"],
        ["run", "flow.py", "--timeout", "-1"],
        ["run", "flow.py", "--max-activations", "0"],
        ["run", "flow.py", "--record", "a", "--replay", "b"],
        ["recordings", "list", "--limit", "many"],
    ],
)
def test_argument_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """argparse refuses bad arguments with exit code 2 and a usage line."""
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == ExitCode.USAGE
    assert "usage: openharness-actors" in capsys.readouterr().err
