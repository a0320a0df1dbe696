"""``signal``: a journaled run that waits for a person suspends; ``signal RUN_ID NAME``
resumes it with the signal, in a real subprocess, without repeating a completed call."""

from __future__ import annotations

from .cli_helpers import FIXTURES, Cli

APPROVE = str(FIXTURES / "approve.py")


async def test_suspended_run_is_resumed_by_signal(cli: Cli) -> None:
    """run --journal suspends at the wait (exit 0, with the command to send a signal);
    signal resumes it calling only the publisher; recordings list --status suspended
    finds the suspended attempts."""
    first = await cli(
        "run", APPROVE, "--state", '{"topic": "tea"}', "--journal", "j.db", "--run-id", "post-1"
    )
    assert first.code == 0, first.err
    assert first.out.startswith("suspended · run post-1")
    assert "waiting for approval:*; send a signal with: openharness-actors signal post-1" in (
        first.err
    )
    assert cli.calls() == ["writer"]

    done = await cli(
        "signal", "post-1", "approval:granted", APPROVE,
        "--payload", '{"note": "ship it"}', "--journal", "j.db", "--json", "-q",
    )  # fmt: skip
    assert done.code == 0, done.err
    result = done.json()
    assert result["status"] == "suspended" and result["recording_id"] == "post-1.r1"
    assert result["state"]["final"] == "<Publish <Write about tea> (ship it)>"
    assert cli.calls() == ["writer", "publisher"]  # the writer was not called again

    listed = await cli("recordings", "list", "--status", "suspended", "--store", "j.db", "--json")
    assert listed.code == 0, listed.err
    assert sorted(r["id"] for r in listed.json()) == ["post-1", "post-1.r1"]


async def test_signal_refusals(cli: Cli) -> None:
    """An undeclared name and a payload that is not a JSON object are usage errors (exit 2);
    nothing is called."""
    first = await cli(
        "run", APPROVE, "--state", '{"topic": "tea"}', "--journal", "j.db", "--run-id", "p", "-q"
    )
    assert first.code == 0, first.err
    bad_name = await cli("signal", "p", "state:final:changed", APPROVE, "--journal", "j.db")
    assert bad_name.code == 2 and "ExternalSignalError" in bad_name.err + bad_name.out
    bad_payload = await cli(
        "signal", "p", "approval:granted", APPROVE, "--payload", "[1]", "--journal", "j.db"
    )
    assert bad_payload.code == 2 and "--payload must be a JSON object" in bad_payload.err
    assert cli.calls() == ["writer"]
