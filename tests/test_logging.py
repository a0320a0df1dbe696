"""Logging: configure_logging for applications, LogReporter for signals."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import structlog

from openharness_actors import (
    LogReporter,
    ScriptedHarness,
    configure_logging,
    create_workflow,
)
from openharness_actors._log_setup import parse_level
from openharness_actors._logging import get_logger
from openharness_actors.reporters.log import level_for

ROOT = Path(__file__).resolve().parent.parent


@attrs.frozen
class State:
    input: str
    result: str | None = None


wf = create_workflow(State)
analyzer = wf.agent(prompt="{{ state.input }}", activate_on=["workflow:start"], updates="result")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_parse_level_names() -> None:
    """LOG_LEVEL names map to numeric levels, any case; unknown names are refused."""
    assert [parse_level(n) for n in ("trace", "DEBUG", "info", "warn", "error")] == [
        5,
        10,
        20,
        30,
        40,
    ]
    with pytest.raises(ValueError, match="unknown log level 'loud'"):
        parse_level("loud")


def test_import_configures_nothing() -> None:
    """Importing the package leaves structlog unconfigured and adds no root handler."""
    code = (
        "import logging, structlog, openharness_actors;"
        "assert not structlog.is_configured();"
        "assert not logging.getLogger().handlers"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_json_lines_parse_and_carry_context() -> None:
    """Non-TTY output is one JSON object per line with level, logger and bound context."""
    out = io.StringIO()
    configure_logging("debug", stream=out)
    get_logger(run_id="run_1").info("hello", n=1)
    logging.getLogger("foreign").warning("from %s", "stdlib")
    first, second = lines(out)
    assert first["event"] == "hello" and first["run_id"] == "run_1" and first["n"] == 1
    assert first["level"] == "info" and first["logger"] == "openharness_actors"
    assert "timestamp" in first
    assert second == {**second, "event": "from stdlib", "level": "warning", "logger": "foreign"}


def test_level_filters_and_trace_works() -> None:
    """At error only errors show; at trace, trace events show too."""
    out = io.StringIO()
    configure_logging("error", stream=out)
    log = get_logger()
    log.trace("t")
    log.debug("d")
    log.info("i")
    log.error("e")
    assert [e["event"] for e in lines(out)] == ["e"]
    out = io.StringIO()
    configure_logging("trace", stream=out)
    get_logger().trace("t")
    assert lines(out)[0]["level"] == "trace"


def test_level_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a level argument, LOG_LEVEL decides."""
    monkeypatch.setenv("LOG_LEVEL", "warn")
    out = io.StringIO()
    configure_logging(stream=out)
    get_logger().info("hidden")
    get_logger().warning("shown")
    assert [e["event"] for e in lines(out)] == ["shown"]


def test_pretty_output_and_reconfiguration_replaces_handler() -> None:
    """json=False renders key=value lines; calling again replaces our handler, not stacks."""
    configure_logging("info", stream=io.StringIO())
    out = io.StringIO()
    configure_logging("info", json=False, stream=out)
    get_logger(run_id="r").info("pretty", k="v")
    text = out.getvalue()
    assert "pretty" in text and "run_id=r" in text and "k=v" in text
    assert not text.lstrip().startswith("{")
    ours = [h for h in logging.getLogger().handlers if type(h).__name__ == "_Handler"]
    assert len(ours) == 1


def test_level_for_signal_kinds() -> None:
    """Errors log at error, lifecycle at info, deltas at trace, the rest at debug."""
    from openharness_actors import Signal

    def sig(name: str, **payload: object) -> Signal:
        return Signal("sig_x", name, dict(payload), 0.0, 0, "run_x")

    assert level_for(sig("agent:failed")) == "error"
    assert level_for(sig("harness:error")) == "error"
    assert level_for(sig("workflow:end", status="timeout")) == "error"
    assert level_for(sig("workflow:end", status="completed")) == "info"
    assert level_for(sig("workflow:end", status="cancelled")) == "warning"
    assert level_for(sig("agent:activated")) == "info"
    assert level_for(sig("text:delta")) == "trace"
    assert level_for(sig("state:result:changed")) == "debug"
    assert level_for(sig("analysis:complete")) == "debug"


async def test_log_reporter_binds_signal_context() -> None:
    """Each signal becomes an event named after it, with run, agent, seq and parent bound."""
    out = io.StringIO()
    configure_logging("trace", stream=out)
    result = await wf.run_reactive(
        agents={"analyzer": analyzer},
        state=State("x" * 500),
        harness=ScriptedHarness(default="reply", chunk_size=2),
        reporters=[LogReporter(max_value=50)],
    )
    events = [e for e in lines(out) if e.get("seq") is not None]
    assert [e["event"] for e in events] == [s.name for s in result.signals]
    activated = next(e for e in events if e["event"] == "agent:activated")
    assert activated["agent"] == "analyzer" and activated["run_id"] == result.run_id
    assert activated["level"] == "info" and activated["parent"] == result.signals[0].id
    assert {e["level"] for e in events if e["event"] == "text:delta"} == {"trace"}
    start = events[0]["payload"]
    assert isinstance(start, dict)
    assert len(start["state"]) == 50 and start["state"].endswith("…")  # cut to max_value


async def test_log_reporter_at_info_hides_deltas_and_debug() -> None:
    """At info only lifecycle (and worse) signals are logged."""
    out = io.StringIO()
    configure_logging("info", stream=out)
    await wf.run_reactive(
        agents={"analyzer": analyzer},
        state=State("x"),
        harness=ScriptedHarness(default="reply", chunk_size=1),
        reporters=[LogReporter()],
    )
    names = [e["event"] for e in lines(out) if e.get("seq") is not None]
    assert names == ["workflow:start", "agent:activated", "agent:completed", "workflow:end"]


async def test_log_reporter_without_configuration_uses_stdlib(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unconfigured, events reach the stdlib logger 'openharness_actors' (trace included)."""
    caplog.set_level(5, logger="openharness_actors")
    result = await wf.run_reactive(
        agents={"analyzer": analyzer},
        state=State("x"),
        harness=ScriptedHarness(default="ab", chunk_size=1),
        reporters=[LogReporter()],
    )
    ours = [r for r in caplog.records if r.name == "openharness_actors"]
    messages = [r.getMessage() for r in ours]
    assert any("text:delta" in m for m in messages)
    assert sum("text:delta" in m for m in messages) == len(result.signals_named("text:delta"))
    assert {r.levelname for r in ours if "text:delta" in r.getMessage()} == {"TRACE"}


SCRIPT = textwrap.dedent(
    """
    import attrs, trio
    from openharness_actors import LogReporter, ScriptedHarness, configure_logging, create_workflow

    @attrs.frozen
    class State:
        input: str
        result: str | None = None

    configure_logging()
    wf = create_workflow(State)
    a = wf.agent(prompt="{{ state.input }}", activate_on=["workflow:start"], updates="result")
    trio.run(lambda: wf.run_reactive(agents={"a": a}, state=State("x"),
             harness=ScriptedHarness(default="ok"), reporters=[LogReporter()]))
    """
)


@pytest.mark.parametrize(("level", "expected"), [("debug", True), ("error", False)])
def test_log_level_env_visibly_changes_output(tmp_path: Path, level: str, expected: bool) -> None:
    """LOG_LEVEL=debug prints the run's events as JSON lines; LOG_LEVEL=error prints none."""
    script = tmp_path / "app.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": level}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stderr.splitlines()]
    assert bool(events) is expected
    if expected:
        assert {"workflow:start", "harness:start", "run_finished"} <= {e["event"] for e in events}


def test_library_modules_log_only_through_the_library_logger() -> None:
    """No module but ``_logging`` calls ``structlog.get_logger`` (unconfigured, that prints
    every level to stdout); the others use ``_logging.get_logger``."""
    package = ROOT / "openharness_actors"
    offenders = [
        str(path.relative_to(ROOT))
        for path in package.rglob("*.py")
        if path.name != "_logging.py" and "structlog.get_logger" in path.read_text()
    ]
    assert offenders == []
