"""``run --journal`` and ``resume``: a journaled run that is interrupted or killed is
finished by ``resume`` without calling the model again for what had completed."""

from __future__ import annotations

import signal
import sys

import pytest

from .cli_helpers import ANALYZE, FACTORIES, HELLO, Cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

SUMMARY = "summarizer says: ANALYZER SAYS: HELLO"
SLOW_SUMMARY = {"CLI_FIXTURE_SLOW": "summarizer"}


async def test_killed_journaled_run_is_resumed_without_repeating_completed_calls(
    cli: Cli,
) -> None:
    """SIGKILL while the summarizer thinks; resume answers the analyzer from the journal and
    calls only the summarizer."""
    code, _, err = cli.interrupt(
        signal.SIGKILL,
        *("run", ANALYZE, "--state", HELLO, "--journal", "jobs.db", "--run-id", "job-1"),
        when="agent:activated summarizer",
        env=SLOW_SUMMARY,
    )
    assert code == -signal.SIGKILL, err
    assert err.startswith("journaling run job-1 in SqliteSignalStore('jobs.db')")
    assert cli.calls() == ["analyzer"]

    done = await cli("resume", "job-1", ANALYZE, "--journal", "jobs.db", "--json", "-q")
    assert done.code == 0, done.err
    result = done.json()
    assert result["status"] == "completed" and result["run_id"] == "job-1"
    assert result["recording_mode"] == "resume" and result["recording_id"] == "job-1.r1"
    assert result["state"]["summary"] == SUMMARY
    assert cli.calls() == ["analyzer", "summarizer"]  # the analyzer was not called again


async def test_interrupted_journaled_run_is_cancelled_resumable_and_says_how(cli: Cli) -> None:
    """SIGINT cancels a journaled run (exit 130, journal finalized as cancelled) and prints the
    resume command, which then completes the run."""
    code, out, err = cli.interrupt(
        signal.SIGINT,
        *("run", ANALYZE, "--state", HELLO, "--journal", "jobs/", "--run-id", "job-2"),
        when="agent:activated summarizer",
        env=SLOW_SUMMARY,
    )
    assert code == 130, err
    assert out.startswith("cancelled · run job-2")
    assert f"resume it with: openharness-actors resume job-2 {ANALYZE} --journal jobs/" in err
    listed = await cli("recordings", "list", "--store", "jobs", "--json")
    assert [(i["id"], i["status"]) for i in listed.json()] == [("job-2", "cancelled")]

    done = await cli("resume", "job-2", ANALYZE, "--journal", "jobs/")
    assert done.code == 0, done.err
    assert "recording job-2.r1 (resumed" in done.out
    assert cli.calls() == ["analyzer", "summarizer"]


async def test_resume_refusals_have_their_exit_codes(cli: Cli) -> None:
    """No journal or no store exits 5; a changed workflow exits 2; an id already journaled
    exits 2; --durability without --journal, and --journal with --record, are usage errors."""
    first = await cli("run", ANALYZE, "--state", HELLO, "--journal", "j.db", "--run-id", "r", "-q")
    assert first.code == 0, first.err
    missing, no_store, changed, durability, both = await cli.all(
        ("resume", "nope", ANALYZE, "--journal", "j.db"),
        ("resume", "r", ANALYZE, "--journal", "absent.db", "--json"),
        ("resume", "r", f"{FACTORIES}:looping", "--journal", "j.db"),
        ("run", ANALYZE, "--state", HELLO, "--durability", "exit"),
        ("run", ANALYZE, "--journal", "j.db", "--record", "x"),
    )
    # Not at the same time as the resume above: both would take run r's lock (exit 5).
    again = await cli("run", ANALYZE, "--state", HELLO, "--journal", "j.db", "--run-id", "r")
    assert missing.code == 5 and "no journal for run 'nope'" in missing.err
    assert no_store.code == 5 and no_store.json()["error"]["type"] == "StoreError"
    assert changed.code == 2 and "the workflow changed" in changed.err
    assert again.code == 2 and "already has a journal" in again.err
    assert durability.code == 2 and "--durability needs --journal" in durability.err
    assert both.code == 2 and "not allowed with argument" in both.err
    assert "resume it with: openharness-actors" not in missing.err + again.err  # nothing ran
