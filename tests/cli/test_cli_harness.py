"""``--harness``: the command line runs a workflow file through the harness it is told to pick,
here ClaudeCodeHarness through the real bundled CLI against the fake Messages API."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openharness_actors.testing import open_fake_anthropic, text_reply

from .cli_helpers import ANALYZE, HELLO, Cli

if os.environ.get("CI"):
    import claude_agent_sdk  # noqa: F401  # CI installs it (the [test] extra): never skipped there
else:
    pytest.importorskip("claude_agent_sdk")


async def test_harness_claude_code_runs_the_file_through_claude_code(
    cli: Cli, tmp_path: Path
) -> None:
    """--harness claude-code replaces the file's scripted harness; the replies come from the API."""
    (tmp_path / "home").mkdir()
    async with open_fake_anthropic() as server:
        server.script(text_reply("it is a greeting"), text_reply("a greeting, briefly"))
        cli.env.update(
            ANTHROPIC_BASE_URL=server.base_url,
            ANTHROPIC_API_KEY="sk-ant-cli-test-key",
            CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
            DISABLE_TELEMETRY="1",
            DISABLE_ERROR_REPORTING="1",
            DISABLE_AUTOUPDATER="1",
            HOME=str(tmp_path / "home"),
        )
        done = await cli("run", ANALYZE, "--harness", "claude-code", "--state", HELLO, "--json")
    assert done.code == 0, done.err
    result = done.json()
    assert result["state"]["analysis"] == "it is a greeting"
    assert result["state"]["summary"] == "a greeting, briefly"
    assert cli.calls() == []  # the file's scripted harness was not called
    assert "sk-ant-cli-test-key" not in done.out + done.err
    assert [r.path for r in server.requests if r.method == "POST"] == ["/v1/messages"] * 2


async def test_harness_auto_without_key_or_login_keeps_the_files_harness(
    cli: Cli, tmp_path: Path
) -> None:
    """--harness auto with no key and no Claude Code login runs the file's own harness."""
    cli.env.update(HOME=str(tmp_path), OPENHARNESS_HARNESS="auto")
    cli.env.pop("CLAUDE_CODE_OAUTH_TOKEN", None)
    done = await cli("run", ANALYZE, "--harness", "auto", "--state", HELLO, "--json")
    assert done.code == 0, done.err
    assert cli.calls() == ["analyzer", "summarizer"]
