"""The Claude Code harness: agents run through the ``claude`` CLI of ``claude-agent-sdk``.

Only this package imports ``claude_agent_sdk``, and only when a call first needs it, so that
``import openharness_actors`` (and constructing a :class:`ClaudeCodeHarness`) never does.
"""

from ._cli import find_cli as find_cli, logged_in as logged_in
from ._harness import (
    ClaudeCodeHarness as ClaudeCodeHarness,
    ClaudeCodeHarnessStatistics as ClaudeCodeHarnessStatistics,
)

__all__ = ["ClaudeCodeHarness", "ClaudeCodeHarnessStatistics", "find_cli", "logged_in"]
