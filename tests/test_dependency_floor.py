"""The declared dependency floors hold for the installed packages (see .ci/anthropic-floor)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def declared_floor(package: str) -> str:
    found = re.search(rf'"{re.escape(package)}>=([0-9.]+)"', PYPROJECT.read_text())
    assert found is not None, f"pyproject.toml declares no floor for {package}"
    return found.group(1)


def test_installed_anthropic_is_at_or_above_the_measured_floor() -> None:
    """The anthropic SDK in use is not older than the floor the suite was measured to pass on."""
    floor = declared_floor("anthropic")
    assert version_tuple(floor) >= (2, 5)  # 2.4 fails tests/test_fake_anthropic.py (529 class)
    installed = importlib.metadata.version("anthropic")
    assert version_tuple(installed) >= version_tuple(floor), (installed, floor)


def test_claude_code_extra_is_in_the_test_extra() -> None:
    """CI installs claude-agent-sdk (through [test]), so the Claude Code tests are not skipped."""
    text = PYPROJECT.read_text()
    assert re.search(r'claude-code = \["claude-agent-sdk>=[0-9.]+"\]', text)
    test_extra = re.search(r'"openharness-actors\[([a-z,-]+)\]"', text)
    assert test_extra is not None and "claude-code" in test_extra.group(1).split(",")
