"""Exit codes scripts rely on: 1 failed, 2 usage/definition, 3 timeout, 4 replay divergence,
5 store, 130 SIGINT, 143 SIGTERM (0 is covered by every successful command)."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import pytest

from openharness_actors import SqliteSignalStore

from .cli_helpers import ANALYZE, CASES, FACTORIES, HELLO, Cli

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
SLOW_RUN = ("run", f"{FACTORIES}:slow", "--state", HELLO, "--signals")


async def test_failed_runs_exit_1_with_the_error_and_partial_state(cli: Cli) -> None:
    """A harness failure and the activation limit exit 1; --json carries error and partial."""
    harness, loop = await cli.all(
        ("run", f"{FACTORIES}:failing", "--state", HELLO, "--json", "-q"),
        ("run", f"{FACTORIES}:looping", "--max-activations", "5"),
    )
    assert harness.code == 1, harness.err
    result = harness.json()
    assert result["status"] == "failed" and result["exit_code"] == 1
    assert result["error"]["type"] == "HarnessError"
    assert result["error"]["agent"] == "summarizer"
    assert result["state"]["analysis"] == "fine"  # the partial state
    assert loop.code == 1
    assert "ActivationLimitError" in loop.err and "looper (5)" in loop.err
    assert loop.out.startswith("failed · run run_")


async def test_usage_and_definition_errors_exit_2_before_anything_runs(cli: Cli) -> None:
    """Bad arguments, files, names, definitions and states exit 2 and call no harness (the
    messages for each kind of bad file are pinned in-process, in test_cli_target)."""
    cases = {
        "no such file": ("run", "missing.py", "--state", HELLO),
        "no such name, as JSON": ("run", f"{ANALYZE}:nope", "--json"),
        "factory raises": ("run", f"{FACTORIES}:raises"),
        "state is not JSON": ("run", ANALYZE, "--state", "{input: 1}"),
        "unknown flag": ("run", ANALYZE, "--frobnicate"),
        "tag without record": ("run", ANALYZE, "--state", HELLO, "--tag", "x"),
        "batch inputs missing": ("batch", CASES, "--inputs", "nope.jsonl"),
    }
    results = dict(zip(cases, await cli.all(*cases.values()), strict=True))
    for what, done in results.items():
        assert done.code == 2, f"{what}: {done.code} {done.err}"
    for what in set(cases) - {"no such name, as JSON"}:
        assert results[what].err.strip(), what
    document = results["no such name, as JSON"].json()
    assert document["status"] == "error" and document["exit_code"] == 2
    assert document["error"]["type"] == "WorkflowDefinitionError"
    assert "RuntimeError: no config" in results["factory raises"].err
    assert "usage:" in results["unknown flag"].err
    assert cli.calls() == []


async def test_timeout_exits_3(cli: Cli) -> None:
    """A run over --timeout exits 3 with status timeout."""
    done = await cli("run", f"{FACTORIES}:slow", "--state", HELLO, "--timeout", "0.2", "--json")
    assert done.code == 3, done.err
    assert done.json()["status"] == "timeout"
    assert done.json()["error"]["type"] == "WorkflowTimeoutError"


async def test_replay_divergence_exits_4_and_names_the_agent(cli: Cli) -> None:
    """Replaying with an input the recording never saw exits 4 with the diff."""
    recorded = await cli("run", ANALYZE, "--state", HELLO, "--record", "r", "-q")
    assert recorded.code == 0, recorded.err
    done = await cli("run", ANALYZE, "--state", '{"input": "bye"}', "--replay", "r", "-q")
    assert done.code == 4, done.err
    assert "ReplayDivergenceError" in done.err and "agent 'analyzer'" in done.err
    assert "+  Analyze: bye" in done.err
    assert cli.calls() == ["analyzer", "summarizer"]


async def test_store_errors_exit_5(cli: Cli, tmp_path: Path) -> None:
    """Missing recordings or stores, and a file that is no store, exit 5."""
    (tmp_path / "junk.db").write_text("not a database at all" * 100)
    assert await SqliteSignalStore(tmp_path / "default.db").list() == []  # exists, empty
    results = await cli.all(
        ("run", ANALYZE, "--state", HELLO, "--replay", "never-recorded"),
        ("run", ANALYZE, "--state", HELLO, "--replay", "x", "--store", "absent.db"),
        ("recordings", "show", "rec_missing"),
        ("recordings", "delete", "rec_missing"),
        ("recordings", "list", "--store", "absent.db"),
        ("recordings", "list", "--store", "junk.db"),
        ("trace", "rec_missing"),
    )
    for done in results:
        assert done.code == 5, f"{done.code} {done.err}"
        assert "StoreError" in done.err
    assert "cannot replay: no recording with a finished recording named" in results[0].err
    assert not (tmp_path / "absent.db").exists()  # reading never creates a store


async def test_batch_input_line_that_is_not_json_exits_5(cli: Cli, tmp_path: Path) -> None:
    """A batch input file with a line that is not JSON is a store error naming the line."""
    (tmp_path / "in.jsonl").write_text('{"id": 1, "question": "a"}\nnot json\n')
    done = await cli("batch", CASES, "--inputs", "in.jsonl", "-q")
    assert done.code == 5, done.err
    assert "in.jsonl:2" in done.err


@posix_only
async def test_sigint_cancels_the_run_and_finalizes_the_recording_as_cancelled(cli: Cli) -> None:
    """SIGINT mid-run exits 130 after workflow:end; the recording is finalized cancelled."""
    code, out, err = cli.interrupt(
        signal.SIGINT, *SLOW_RUN, "--record", "ctrl-c", "--json", when="harness:start"
    )
    assert code == 130, err
    result = json.loads(out)
    assert result["status"] == "cancelled" and result["exit_code"] == 130
    assert "workflow:end" in err
    shown = await cli("recordings", "show", result["recording_id"], "--json")
    info = shown.json()["info"]
    assert info["status"] == "cancelled" and info["name"] == "ctrl-c"
    assert shown.json()["signals"][-1]["name"] == "workflow:end"


@posix_only
def test_sigterm_cancels_the_run_cleanly_and_exits_143(cli: Cli) -> None:
    """SIGTERM mid-run exits 143 after writing workflow:end, with a message on stderr."""
    code, out, err = cli.interrupt(signal.SIGTERM, *SLOW_RUN, when="harness:start")
    assert code == 143, err
    assert "workflow:end" in err and "interrupted by SIGTERM" in err
    assert out.startswith("cancelled · run run_")


@posix_only
def test_sigint_stops_a_batch_and_keeps_finished_cases(cli: Cli, tmp_path: Path) -> None:
    """SIGINT during a batch exits 130; the case that finished is in the results file."""
    lines = [json.dumps({"id": i, "question": q}) for i, q in enumerate(["quick", "slow", "slow"])]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    process = cli.start("batch", CASES, "--inputs", "in.jsonl", "--results", "r.jsonl")
    assert process.stderr is not None
    first = process.stderr.readline()  # printed when the quick case finished
    assert first.startswith("batch: 1/3 done"), first
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "run the same command again to resume" in err
    finished = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [case["case_id"] for case in finished] == ["0"]
