"""``run``: output modes, progress, state input, and recording, replay and auto."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from .cli_helpers import ANALYZE, FACTORIES, HELLO, ROOT, Cli

SUMMARY = "summarizer says: ANALYZER SAYS: HELLO"


async def test_human_output_has_summary_and_state_and_progress_on_stderr(cli: Cli) -> None:
    """Human mode: a summary line and the final state on stdout, lifecycle lines on stderr."""
    done = await cli("run", ANALYZE, "--state", HELLO)
    assert done.code == 0, done.err
    first, _, state = done.out.partition("\n")
    assert first.startswith("completed · run run_")
    assert "2 activations" in first
    assert json.loads(state)["summary"] == SUMMARY
    assert "agent:activated analyzer" in done.err
    assert " completed in " in done.err.splitlines()[-1]


async def test_json_output_is_one_document_with_result_and_metrics(cli: Cli) -> None:
    """--json writes status, state, metrics, run_id and recording_id as one JSON document."""
    done = await cli("run", f"{ANALYZE}:workflow", "--state", HELLO, "--json", "--quiet")
    assert done.code == 0, done.err
    result = done.json()
    assert result["status"] == "completed"
    assert result["state"]["summary"] == SUMMARY
    assert result["run_id"].startswith("run_")
    assert result["recording_id"] is None
    assert result["metrics"]["activations"] == 2
    assert result["metrics"]["agents"]["analyzer"]["completed"] == 1
    assert result["error"] is None and result["exit_code"] == 0
    assert done.err == ""


async def test_signals_flag_prints_one_line_per_signal(cli: Cli) -> None:
    """--signals replaces the live view with a line per signal (with payloads)."""
    done = await cli("run", ANALYZE, "--state", HELLO, "--signals")
    assert done.code == 0, done.err
    lines = done.err.splitlines()
    assert lines[0].startswith("[   0] workflow:start")
    assert any("state:summary:changed (summarizer)" in line for line in lines)


async def test_state_from_file_and_from_stdin(cli: Cli, tmp_path: Path) -> None:
    """--state-file reads the initial state from a file, or from stdin with '-'."""
    (tmp_path / "state.json").write_text('{"input": "from file"}')
    from_file, from_stdin = await cli.all(
        ("run", ANALYZE, "--state-file", "state.json", "--json", "-q"),
        ("run", ANALYZE, "--state-file", "-", "--json", "-q"),
    )
    assert from_file.json()["state"]["analysis"] == "analyzer says: FROM FILE"
    piped = await cli("run", ANALYZE, "--state-file", "-", "--json", "-q", stdin=HELLO)
    assert piped.json()["state"]["summary"] == SUMMARY
    assert from_stdin.code == 2  # empty stdin is not JSON


async def test_end_when_from_a_factory_terminates_with_exit_0(cli: Cli) -> None:
    """A factory's end_when ends the run early: status terminated, exit code 0."""
    done = await cli("run", f"{FACTORIES}:ending", "--state", HELLO, "--json", "-q")
    assert done.code == 0, done.err
    result = done.json()
    assert result["status"] == "terminated" and result["terminated_early"] is True
    assert result["state"]["summary"] is None


async def test_record_then_replay_makes_no_harness_call(cli: Cli) -> None:
    """A recorded run replays by name and by id with the same state and no harness call."""
    recorded = await cli(
        "run", ANALYZE, "--state", HELLO, "--record", "demo", "--store", "recs.db", "--json", "-q"
    )
    assert recorded.code == 0, recorded.err
    first = recorded.json()
    assert first["recording_mode"] == "record" and first["recording_id"].startswith("rec_")
    assert cli.calls() == ["analyzer", "summarizer"]

    by_name, by_id = await cli.all(
        ("run", ANALYZE, "--state", HELLO, "--replay", "demo", "--store", "recs.db", "--json"),
        ("run", ANALYZE, "--state", HELLO, "--replay", first["recording_id"], "--store", "recs.db"),
    )
    assert by_name.code == 0 and by_id.code == 0, by_name.err + by_id.err
    replayed = by_name.json()
    assert replayed["recording_mode"] == "replay"
    assert replayed["recording_id"] == first["recording_id"]
    assert replayed["state"] == first["state"]
    assert f"recording {first['recording_id']} (replayed" in by_id.out
    assert cli.calls() == ["analyzer", "summarizer"]  # the replays called no harness


async def test_auto_records_once_then_replays(cli: Cli) -> None:
    """--auto records when the recording is missing and replays it afterwards."""
    args = ("run", ANALYZE, "--state", HELLO, "--auto", "nightly", "--tag", "ci", "--json", "-q")
    first = await cli(*args)
    second = await cli(*args)
    assert first.code == second.code == 0, first.err + second.err
    assert first.json()["recording_mode"] == "record"
    assert second.json()["recording_mode"] == "replay"
    assert second.json()["recording_id"] == first.json()["recording_id"]
    assert len(cli.calls()) == 2
    assert (cli.directory / "default.db").exists()  # no --store: the default store


async def test_jsonl_directory_store_records_and_replays(cli: Cli) -> None:
    """A directory given as --store holds JSONL recordings, one file per recording."""
    recorded = await cli(
        "run", ANALYZE, "--state", HELLO, "--record", "fixture", "--store", "recs/", "--json", "-q"
    )
    assert recorded.code == 0, recorded.err
    recording_id = recorded.json()["recording_id"]
    assert (cli.directory / "recs" / f"{recording_id}.jsonl").is_file()
    replayed = await cli(
        "run", ANALYZE, "--state", HELLO, "--replay", "fixture", "--store", "recs", "--json"
    )
    assert replayed.code == 0 and replayed.json()["recording_mode"] == "replay"
    assert len(cli.calls()) == 2


async def test_help_documents_exit_codes_and_the_file_convention(cli: Cli) -> None:
    """Top-level and run --help list the exit codes; run --help explains path.py:NAME."""
    top, run = await cli.all(("--help",), ("run", "--help"))
    assert top.code == run.code == 0
    for text in (top.out, run.out):
        assert "exit codes:" in text and "130" in text and "replay diverged" in text
    assert "path.py:NAME" in run.out and "`agents`" in run.out


@pytest.mark.skipif(
    not (Path(sys.executable).parent / "openharness-actors").exists(),
    reason="the console script is not installed next to this interpreter",
)
async def test_console_script_is_the_same_command(cli: Cli) -> None:
    """The installed ``openharness-actors`` script runs the same CLI."""
    import trio

    script = shutil.which("openharness-actors", path=str(Path(sys.executable).parent))
    assert script is not None
    process = await trio.run_process(
        [script, "--version"], capture_stdout=True, env=cli.env, cwd=cli.directory
    )
    assert process.stdout.decode().startswith("openharness-actors ")


def readme_flow_file() -> str:
    """The README's example workflow file (the python block starting ``# flow.py``)."""
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in readme.split("```python\n") if b.startswith("# flow.py"))
    return block.split("```")[0]


async def test_readme_flow_file_runs_with_the_readme_command(cli: Cli) -> None:
    """The README's example workflow file runs with the README's first command."""
    (cli.directory / "flow.py").write_text(readme_flow_file())
    done = await cli("run", "flow.py", "--state", '{"input": "hello"}')
    assert done.code == 0, done.err
    assert json.loads(done.out.partition("\n")[2]) == {"input": "hello", "result": "looks fine"}


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
def test_live_view_redraws_in_place_on_a_terminal(cli: Cli) -> None:
    """With stderr on a terminal, progress is the live view (ANSI redraws), not plain lines."""
    import os
    import pty
    import subprocess

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        cli.command("run", ANALYZE, "--state", HELLO),
        stdout=subprocess.PIPE,
        stderr=terminal,
        cwd=cli.directory,
        env=cli.env,
    )
    os.close(terminal)
    drawn = b""
    while True:  # until the child closes the terminal (EIO); bounded by pytest-timeout
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(controller)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert out.startswith(b"completed")
    assert b"\x1b[2K" in drawn and "✓ summarizer".encode() in drawn
    assert b"agent:activated" not in drawn  # no plain lifecycle lines
