"""Where the Claude Code CLI is, whether it is logged in, and the lazy import of its SDK.

``claude_agent_sdk`` is imported here on first use only (by :func:`load_sdk`), so that importing
``openharness_actors`` never imports it and a program without the ``[claude-code]`` extra gets
a clear error when it first needs it. The CLI is the one the SDK bundles, else ``claude`` on
``PATH``. The login check asks the CLI itself (``claude auth status``); this module never reads
credential files and never touches the network.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

__all__ = ["INSTALL_HINT", "find_cli", "load_sdk", "logged_in", "sdk_available"]

INSTALL_HINT = "pip install 'openharness-actors[claude-code]'"
"""How to get the SDK (which bundles the ``claude`` CLI)."""

_LOGIN_TIMEOUT = 15.0


def load_sdk() -> ModuleType:
    """``claude_agent_sdk``, imported now; :class:`ImportError` naming the extra without it."""
    try:
        return importlib.import_module("claude_agent_sdk")
    except ImportError as exc:
        raise ImportError(
            f"ClaudeCodeHarness needs the claude-agent-sdk package: {INSTALL_HINT}"
        ) from exc


def sdk_available() -> bool:
    """Whether ``claude_agent_sdk`` can be imported (without importing it when it is not)."""
    try:
        return importlib.util.find_spec("claude_agent_sdk") is not None
    except (ImportError, ValueError):
        return False


def find_cli(cli_path: str | os.PathLike[str] | None = None) -> str | None:
    """The CLI to run: ``cli_path`` when given (``None`` if it is not a file), else the SDK's
    bundled one, else ``claude`` on ``PATH``; ``None`` when there is none."""
    if cli_path is not None:
        return str(cli_path) if Path(cli_path).is_file() else None
    spec = importlib.util.find_spec("claude_agent_sdk") if sdk_available() else None
    if spec is not None and spec.origin is not None:
        name = "claude.exe" if os.name == "nt" else "claude"
        bundled = Path(spec.origin).parent / "_bundled" / name
        if bundled.is_file():
            return str(bundled)
    return shutil.which("claude")


def logged_in(
    cli_path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> bool:
    """Whether the CLI reports a Claude login of its own (a subscription, ``claude setup-token``
    or any other method it knows), asked with ``claude auth status`` in ``environ`` (default:
    this process's environment); about half a second, then cached per CLI and environment.
    ``ANTHROPIC_API_KEY`` is left out of the check: a key is for
    :class:`~openharness_actors.AnthropicHarness`. ``False`` without a CLI, or when the check
    fails or times out."""
    cli = find_cli(cli_path)
    env = {
        key: value
        for key, value in (os.environ if environ is None else environ).items()
        if key != "ANTHROPIC_API_KEY"
    }
    env.setdefault("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
    return cli is not None and _logged_in(cli, tuple(sorted(env.items())))


@functools.cache
def _logged_in(cli: str, env: tuple[tuple[str, str], ...]) -> bool:
    try:
        done = subprocess.run(
            [cli, "auth", "status", "--json"],
            env=dict(env),
            capture_output=True,
            text=True,
            timeout=_LOGIN_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    try:
        status = json.loads(done.stdout)
    except ValueError:
        return False
    return isinstance(status, dict) and status.get("loggedIn") is True
