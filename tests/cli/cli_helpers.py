"""Running the command line as a subprocess, and reading what it wrote."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import trio

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "cli_fixtures"
ANALYZE = str(FIXTURES / "analyze.py")
FACTORIES = str(FIXTURES / "factories.py")
CASES = str(FIXTURES / "cases.py")
HELLO = '{"input": "hello"}'


@attrs.frozen
class Done:
    """A finished command: exit code, stdout and stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """Runs ``python -m openharness_actors`` in ``directory``: the default store is
    ``directory/default.db`` and the fixtures log their harness calls to ``calls_file``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.calls_file = directory / "calls.log"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("ANTHROPIC_API_KEY", "LOG_LEVEL", "OPENHARNESS_RECORDINGS")
        }
        self.env.update(
            PYTHONPATH=str(ROOT),
            OPENHARNESS_RECORDINGS=str(directory / "default.db"),
            CLI_FIXTURE_CALLS=str(self.calls_file),
        )

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "openharness_actors", *args]

    async def __call__(self, *args: str, stdin: str | None = None) -> Done:
        process = await trio.run_process(
            self.command(*args),
            stdin=None if stdin is None else stdin.encode(),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            cwd=self.directory,
            env=self.env,
        )
        return Done(process.returncode, process.stdout.decode(), process.stderr.decode())

    async def all(self, *commands: tuple[str, ...]) -> list[Done]:
        """Run several commands at once; their results in the same order."""
        results: list[Done | None] = [None] * len(commands)

        async def one(index: int, args: tuple[str, ...]) -> None:
            results[index] = await self(*args)

        async with trio.open_nursery() as nursery:
            for index, args in enumerate(commands):
                nursery.start_soon(one, index, args)
        return [done for done in results if done is not None]

    def calls(self) -> list[str]:
        """The harness calls the fixtures made so far (agent names, or batch prompts)."""
        if not self.calls_file.exists():
            return []
        return self.calls_file.read_text().splitlines()

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """Start a command without waiting (for signals); stderr is a pipe. ``env`` adds
        variables."""
        return subprocess.Popen(
            self.command(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.directory,
            env={**self.env, **(env or {})},
        )

    def interrupt(
        self, signum: int, *args: str, when: str, env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        """Start a command, send it ``signum`` once a stderr line contains ``when``, and wait
        for it: (exit code, stdout, stderr)."""
        process = self.start(*args, env=env)
        assert process.stderr is not None
        seen = []
        while True:  # bounded by pytest-timeout
            line = process.stderr.readline()
            seen.append(line)
            if when in line or not line:
                break
        process.send_signal(signum)
        out, err = process.communicate(timeout=30)
        return process.returncode, out, "".join(seen) + err


def load_fixture(name: str) -> ModuleType:
    """Import a fixture workflow file in this process (to make recordings quickly)."""
    if str(FIXTURES) not in sys.path:
        sys.path.insert(0, str(FIXTURES))
    return importlib.import_module(name)
