"""Building the ``ClaudeAgentOptions`` of one CLI process: model, system prompt, tools,
structured output, environment and the isolation defaults.

The harness's configuration (:class:`Settings`) and one request's needs (:class:`CallShape`)
become the options a ``ClaudeSDKClient`` starts the CLI with. Defaults, unless ``options``
says otherwise: no built-in Claude Code tools (an agent gets exactly its own callables), no
user, project or local settings files, partial messages on (text deltas), and no session
transcript written under ``~/.claude`` (``--no-session-persistence``) unless
``persist_sessions``. This module builds values only; it starts nothing.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs

__all__ = ["BRIDGE_SERVER", "CallShape", "Settings", "api_keys", "bridged_name", "build_options"]

BRIDGE_SERVER = "openharness"
"""The in-process MCP server's name: the model sees a tool ``t`` as ``mcp__openharness__t``."""


@attrs.frozen
class Settings:
    """What a :class:`ClaudeCodeHarness` was configured with (shared by all its calls)."""

    model: str | None = None
    env: Mapping[str, str] = attrs.field(factory=dict)
    cwd: str | None = None
    max_turns: int | None = None
    cli_path: str | None = None
    options: Any = None  # a ClaudeAgentOptions to start from, or None
    persist_sessions: bool = False


@attrs.frozen
class CallShape:
    """What fixes a CLI process for one request: a process started for one shape can serve
    every later request of the same shape (the pool's key, with the agent's name)."""

    agent: str
    system: str | None
    model: str | None
    tools: tuple[Callable[..., Any], ...]
    output_schema: str | None  # the JSON Schema as canonical JSON text, None for plain text


def build_options(
    sdk: Any, settings: Settings, shape: CallShape, mcp_server: Any, tool_names: list[str]
) -> Any:
    """The ``ClaudeAgentOptions`` for a process of ``shape``; ``mcp_server`` serves the tools
    named ``tool_names`` (``None`` when the agent has none)."""
    base = settings.options
    options = dataclasses.replace(base) if base is not None else sdk.ClaudeAgentOptions()
    changes: dict[str, Any] = {"include_partial_messages": True}
    if base is None:
        changes["tools"] = []
        changes["setting_sources"] = []
    model = shape.model or settings.model
    if model is not None:
        changes["model"] = model
    if shape.system is not None:
        changes["system_prompt"] = shape.system
    if settings.cwd is not None:
        changes["cwd"] = settings.cwd
    if settings.max_turns is not None:
        changes["max_turns"] = settings.max_turns
    if settings.cli_path is not None:
        changes["cli_path"] = settings.cli_path
    if settings.env:
        changes["env"] = {**options.env, **settings.env}
    extra = dict(options.extra_args)
    if not settings.persist_sessions:
        extra.setdefault("no-session-persistence", None)
    changes["extra_args"] = extra
    if mcp_server is not None:
        servers = dict(options.mcp_servers) if isinstance(options.mcp_servers, dict) else {}
        servers[BRIDGE_SERVER] = mcp_server
        changes["mcp_servers"] = servers
        allowed = list(options.allowed_tools)
        allowed += [bridged_name(name) for name in tool_names if bridged_name(name) not in allowed]
        changes["allowed_tools"] = allowed
    if shape.output_schema is not None:
        changes["output_format"] = {
            "type": "json_schema",
            "schema": json.loads(shape.output_schema),
        }
    return dataclasses.replace(options, **changes)


def bridged_name(tool: str) -> str:
    """The name the model calls an agent's tool by."""
    return f"mcp__{BRIDGE_SERVER}__{tool}"


def api_keys(settings: Settings) -> list[str]:
    """The API keys the CLI could see (to redact from error text)."""
    keys = [settings.env.get("ANTHROPIC_API_KEY"), os.environ.get("ANTHROPIC_API_KEY")]
    base_env = getattr(settings.options, "env", None) or {}
    keys.append(base_env.get("ANTHROPIC_API_KEY"))
    keys.append(settings.env.get("CLAUDE_CODE_OAUTH_TOKEN"))
    keys.append(os.environ.get("CLAUDE_CODE_OAUTH_TOKEN"))
    return [key for key in keys if key]
