"""choose_harness: a key picks AnthropicHarness, a Claude Code login ClaudeCodeHarness, else the
fallback; the login is what the real bundled CLI reports (``claude auth status``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openharness_actors import (
    AnthropicHarness,
    ClaudeCodeHarness,
    ScriptedHarness,
    WorkflowDefinitionError,
    choose_harness,
)
from openharness_actors.harness.claude_code import logged_in

# claude-agent-sdk leaves its transport's stdout reader (an async generator) to the garbage
# collector in some close paths, which pytest reports as an unraisable warning at a random
# later test. It is the SDK's internal generator, not ours: ignore exactly that one.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Exception ignored in.*SubprocessCLITransport._read_messages_impl"
    ":pytest.PytestUnraisableExceptionWarning"
)

if os.environ.get("CI"):
    import claude_agent_sdk  # noqa: F401  # CI installs it (the [test] extra): never skipped there
else:
    pytest.importorskip("claude_agent_sdk")


def base_env(home: Path) -> dict[str, str]:
    """A clean environment: a fresh HOME (no login) and no key."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}


def test_a_key_picks_the_anthropic_harness(tmp_path: Path) -> None:
    """ANTHROPIC_API_KEY in the environment chooses AnthropicHarness over anything else."""
    env = {**base_env(tmp_path), "ANTHROPIC_API_KEY": "sk-test", "CLAUDE_CODE_OAUTH_TOKEN": "t"}
    assert isinstance(choose_harness(ScriptedHarness(), environ=env), AnthropicHarness)


def test_a_claude_code_login_picks_the_claude_code_harness(tmp_path: Path) -> None:
    """With no key, a login the CLI reports (here a setup-token) chooses ClaudeCodeHarness."""
    env = {**base_env(tmp_path), "CLAUDE_CODE_OAUTH_TOKEN": "sk-ant-oat-fake-for-the-test"}
    assert logged_in(environ=env)
    assert isinstance(choose_harness(ScriptedHarness(), environ=env), ClaudeCodeHarness)


def test_neither_falls_back_and_offline_forces_the_fallback(tmp_path: Path) -> None:
    """No key and no login gives the fallback (called when it is a factory); offline forces it."""
    scripted = ScriptedHarness()
    env = base_env(tmp_path)
    assert not logged_in(environ=env)
    assert choose_harness(lambda: scripted, environ=env) is scripted
    assert choose_harness(environ=env) is None
    keyed = {**env, "ANTHROPIC_API_KEY": "sk-test", "OPENHARNESS_HARNESS": "offline"}
    assert choose_harness(scripted, environ=keyed) is scripted
    assert isinstance(choose_harness(choice="claude-code", environ=env), ClaudeCodeHarness)
    with pytest.raises(WorkflowDefinitionError, match="unknown harness choice 'gpt'"):
        choose_harness(environ={**env, "OPENHARNESS_HARNESS": "gpt"})


def test_a_cli_that_is_missing_or_garbled_is_not_a_login(tmp_path: Path) -> None:
    """No CLI at cli_path, or one that prints no JSON, counts as not logged in."""
    assert not logged_in(tmp_path / "no-claude", environ=base_env(tmp_path))
    fake = tmp_path / "claude"
    fake.write_text("#!/bin/sh\necho not json\n")
    fake.chmod(0o755)
    assert not logged_in(fake, environ=base_env(tmp_path))
