"""Ctrl-C in a real process ends every task and still writes workflow:end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys, attrs, trio
    from openharness_actors import ScriptedHarness, create_workflow

    @attrs.frozen
    class State:
        input: str
        result: str | None = None

    wf = create_workflow(State)
    slow = wf.agent(prompt="x", activate_on=["workflow:start"], updates="result")

    class Tell:
        def on_signal(self, signal):
            print(signal.name, signal.payload.get("status", ""), flush=True)

    async def main():
        await wf.run_reactive(agents={"slow": slow}, state=State("i"),
                              harness=ScriptedHarness(default="late", delay=600.0), reporters=[Tell()])

    try:
        trio.run(main)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_cancels_run_and_writes_end(tmp_path: Path) -> None:
    """SIGINT during a harness call: KeyboardInterrupt after workflow:end(status=cancelled)."""
    script = tmp_path / "interrupt.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line.strip())
        if line.startswith("harness:start"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    lines.extend(out.split("\n"))
    assert proc.returncode == 130, err
    assert "workflow:end cancelled" in lines
    assert lines.index("workflow:end cancelled") < lines.index("interrupted")
