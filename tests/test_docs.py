"""Docs that run: every README code block and every example script."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
EXAMPLES = sorted(p for p in (ROOT / "examples").rglob("*.py") if not p.name.startswith("_"))


def offline_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    env["PYTHONPATH"] = str(ROOT)
    env["OPENHARNESS_HARNESS"] = "offline"  # never a live harness, even with a Claude Code login
    return env


@pytest.mark.parametrize(
    "block", README_BLOCKS, ids=[f"readme-{i}" for i in range(len(README_BLOCKS))]
)
def test_readme_block_runs(block: str, tmp_path: Path) -> None:
    """Each python block of the README runs as a script, offline, and exits 0, in a fresh
    working and temporary directory (so no run sees what an earlier one left behind)."""
    script = tmp_path / "block.py"
    script.write_text(block)
    # A short path of its own: Ray puts AF_UNIX sockets (107 bytes at most) under TMPDIR.
    scratch = tempfile.mkdtemp(prefix="ohdoc")
    try:
        done = subprocess.run(
            [sys.executable, str(script)],
            env={**offline_env(), "TMPDIR": scratch},
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert done.returncode == 0, done.stderr


FIXED_PATH = re.compile(r"""["'](/tmp/|/var/tmp/)""")
SWALLOWED = re.compile(r"except( Exception| BaseException)?:\s*\n\s*pass\b")


@pytest.mark.parametrize(
    "block", README_BLOCKS, ids=[f"readme-{i}" for i in range(len(README_BLOCKS))]
)
def test_readme_block_uses_temporary_directories_and_hides_no_error(block: str) -> None:
    """No README block writes a fixed /tmp path (results a later run would resume from) or
    swallows errors with a bare ``except ...: pass``."""
    assert not FIXED_PATH.search(block), "use tempfile.mkdtemp() instead of a fixed path"
    assert not SWALLOWED.search(block), "catch the error you expect, and show it"


def example_args(example: Path) -> list[str]:
    """Arguments an example asks to be tested with: a ``# test_docs: ARGS`` line (a server,
    say, that would otherwise run until stopped)."""
    found = re.search(r"^# test_docs: (.*)$", example.read_text(), re.MULTILINE)
    return shlex.split(found.group(1)) if found else []


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs_offline(example: Path) -> None:
    """Each example script runs offline with no key and exits 0."""
    done = subprocess.run(
        [sys.executable, str(example), *example_args(example)],
        env=offline_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
