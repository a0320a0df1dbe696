"""ClaudeCodeHarness through the real bundled ``claude`` CLI against the fake Messages API.

Offline: the CLI is pointed at ``open_fake_anthropic`` with a test key, a temporary HOME and
no nonessential traffic, so every model turn is one ``POST /v1/messages?beta=true`` to the
fake server. Each test is one trio run, so each starts at least one CLI process (~0.5 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from openharness_actors import (
    ClaudeCodeHarness,
    HarnessError,
    JsonlSignalStore,
    Recording,
    create_workflow,
)
from openharness_actors.testing import (
    FakeAnthropic,
    http_error,
    open_fake_anthropic,
    stalled_reply,
    text_reply,
    tool_use_reply,
)

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

KEY = "sk-ant-claude-code-test-0123456789"
TOOL_PREFIX = "mcp__openharness__"


def cli_env(server: FakeAnthropic, home: Path) -> dict[str, str]:
    """The CLI's environment for an offline run against ``server``."""
    return {
        "ANTHROPIC_BASE_URL": server.base_url,
        "ANTHROPIC_API_KEY": KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "HOME": str(home),
    }


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropic]:
    async with open_fake_anthropic() as fake:
        yield fake


@pytest.fixture
def make_harness(server: FakeAnthropic, tmp_path: Path) -> Callable[..., ClaudeCodeHarness]:
    def make(**options: Any) -> ClaudeCodeHarness:
        options.setdefault("cwd", tmp_path)
        return ClaudeCodeHarness(env=cli_env(server, tmp_path / "home"), **options)

    (tmp_path / "home").mkdir()
    return make


def model_requests(server: FakeAnthropic) -> list[Any]:
    return [r for r in server.requests if r.method == "POST" and r.path == "/v1/messages"]


@attrs.frozen
class Doc:
    topic: str
    summary: str | None = None
    verdict: Verdict | None = None


@attrs.frozen
class Verdict:
    approved: bool
    reason: str


wf = create_workflow(Doc)
summarizer = wf.agent(
    system="You summarise {{ topic }} tersely.",
    prompt="Summarise {{ topic }}.",
    model="claude-sonnet-4-5",
    activate_on=["workflow:start"],
    updates="summary",
)


async def test_streams_text_deltas_with_the_agents_system_prompt_and_model(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness]
) -> None:
    """Text deltas stream as text:delta and add up to the reply; system and model reach the API."""
    server.script(text_reply("Tides follow the moon, twice a day.", chunk_size=6))
    async with make_harness() as harness:
        result = await wf.run_reactive(
            agents={"summarizer": summarizer}, state=Doc("tides"), harness=harness
        )
    assert result.state.summary == "Tides follow the moon, twice a day."
    deltas = [s.payload["content"] for s in result.signals if s.name == "text:delta"]
    assert len(deltas) > 1 and "".join(deltas) == "Tides follow the moon, twice a day."
    (request,) = model_requests(server)
    assert request.model == "claude-sonnet-4-5"
    assert "You summarise tides tersely." in json.dumps(request.system)
    assert "Summarise tides." in request.last_user_text
    end = next(s for s in result.signals if s.name == "harness:end")
    assert end.payload["usage"]["input_tokens"] > 0 and end.payload["usage"]["output_tokens"] > 0
    assert end.source.harness == "claude-code"


def forecast(city: str) -> dict[str, Any]:
    """Today's forecast for a city."""
    return {"city": city, "sky": "rain", "high_c": 14}


async def test_python_tools_run_through_the_mcp_bridge(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness]
) -> None:
    """A tool call runs the Python callable; tool:call precedes tool:result, both by plain name."""
    weather = wf.agent(
        prompt="Weather in {{ topic }}?",
        activate_on=["workflow:start"],
        updates="summary",
        tools=[forecast],
    )
    server.script(
        tool_use_reply((TOOL_PREFIX + "forecast", {"city": "Oslo"}), text="Checking."),
        text_reply("Rain, 14°C."),
    )
    async with make_harness() as harness:
        result = await wf.run_reactive(
            agents={"weather": weather}, state=Doc("Oslo"), harness=harness
        )
    assert result.state.summary == "Rain, 14°C."
    first, second = model_requests(server)
    assert TOOL_PREFIX + "forecast" in [t["name"] for t in first.tools]
    assert json.loads(second.tool_results[0]["content"][0]["text"]) == forecast("Oslo")
    names = [s.name for s in result.signals]
    call = result.signals[names.index("tool:call")]
    done = result.signals[names.index("tool:result")]
    assert names.index("tool:call") < names.index("tool:result")
    assert call.payload["name"] == done.payload["name"] == "forecast"
    assert call.payload["input"] == {"city": "Oslo"}
    assert done.payload["id"] == call.payload["id"] and done.payload["result"] == forecast("Oslo")


async def test_structured_output_becomes_the_agents_output_type(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness]
) -> None:
    """output=T asks the CLI for structured output; its value structures into T."""
    judge = wf.agent(
        prompt="Approve {{ topic }}?",
        activate_on=["workflow:start"],
        updates="verdict",
        output=Verdict,
    )
    server.script(
        tool_use_reply(("StructuredOutput", {"approved": True, "reason": "clear"})),
        text_reply("Done."),
    )
    async with make_harness() as harness:
        result = await wf.run_reactive(agents={"judge": judge}, state=Doc("it"), harness=harness)
    assert result.state.verdict == Verdict(approved=True, reason="clear")
    first = model_requests(server)[0]
    offered = {t["name"]: t for t in first.tools}
    assert set(offered["StructuredOutput"]["input_schema"]["properties"]) == {"approved", "reason"}
    assert not [s for s in result.signals if s.name == "tool:call"]


async def test_a_process_is_reused_with_a_fresh_conversation(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness]
) -> None:
    """A second call of the same shape reuses the idle process, without the first conversation."""
    from openharness_actors.harness import HarnessRequest

    events: list[Any] = []

    async def emit(event: Any) -> None:
        events.append(event)

    server.script(text_reply("first answer"), text_reply("second answer"))
    async with make_harness() as harness:
        one = await harness.run(HarnessRequest("a", "question one", "r1", system="Be brief."), emit)
        two = await harness.run(HarnessRequest("a", "question two", "r1", system="Be brief."), emit)
        stats = harness.statistics()
        assert stats.idle_processes == 1
    assert (one.output, two.output) == ("first answer", "second answer")
    assert (stats.processes_started, stats.processes_reused, stats.calls) == (1, 1, 2)
    second = model_requests(server)[1]
    assert "question two" in second.last_user_text
    assert "question one" not in json.dumps(second.messages)
    assert harness.statistics().idle_processes == 0


async def test_cancellation_interrupts_and_closes_promptly(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness]
) -> None:
    """Cancelling a call mid-stream ends it, and the CLI's request, within a few seconds."""
    from openharness_actors.harness import HarnessRequest

    deltas: list[str] = []
    got_text = trio.Event()

    async def emit(event: Any) -> None:
        if event.signal_name == "text:delta":
            deltas.append(event.content)
            got_text.set()

    server.script(stalled_reply(4, text="partial reply that never ends"))
    harness = make_harness()
    with trio.fail_after(60):
        async with trio.open_nursery() as nursery:

            async def call() -> None:
                await harness.run(HarnessRequest("a", "hang", "r1"), emit)

            nursery.start_soon(call)
            await got_text.wait()
            cancelled_at = trio.current_time()
            nursery.cancel_scope.cancel()
        took = trio.current_time() - cancelled_at
        await server.wait_disconnects(1)
    assert deltas
    assert took < 3.0
    assert harness.statistics().in_flight == 0
    assert harness.statistics().idle_processes == 0


async def test_an_api_400_is_a_harness_error_naming_the_agent(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness]
) -> None:
    """A 400 the CLI cannot get past raises HarnessError(code "400", not retryable)."""
    server.default = http_error(400, message="prompt is malformed")
    with pytest.raises(HarnessError) as caught:
        async with make_harness() as harness:
            await wf.run_reactive(
                agents={"summarizer": summarizer}, state=Doc("tides"), harness=harness
            )
    error = caught.value
    assert (error.agent, error.code, error.retryable, error.status_code) == (
        "summarizer",
        "400",
        False,
        400,
    )
    assert "summarizer" in str(error) and "prompt is malformed" in str(error)
    assert KEY not in str(error)
    assert harness.statistics().idle_processes == 0


async def test_recorded_through_the_cli_replays_without_it(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness], tmp_path: Path
) -> None:
    """A tool-using run recorded through the CLI replays with no harness; no key is recorded."""
    weather = wf.agent(
        prompt="Weather in {{ topic }}?",
        activate_on=["workflow:start"],
        updates="summary",
        emits=["weather:known"],
        tools=[forecast],
    )
    advisor = wf.agent(
        prompt="Given {{ summary }}, advise.",
        activate_on=["weather:known"],
        updates="verdict",
        output=Verdict,
    )
    agents = {"weather": weather, "advisor": advisor}
    server.script(
        tool_use_reply((TOOL_PREFIX + "forecast", {"city": "Oslo"})),
        text_reply("Rainy."),
        tool_use_reply(("StructuredOutput", {"approved": False, "reason": "umbrella"})),
        text_reply("ok"),
    )
    store = JsonlSignalStore(tmp_path / "recordings")
    async with make_harness() as harness:
        recorded = await wf.run_reactive(
            agents=agents,
            state=Doc("Oslo"),
            harness=harness,
            recording=Recording(mode="record", store=store, name="trip"),
        )
    assert recorded.state == Doc("Oslo", "Rainy.", Verdict(False, "umbrella"))
    files = list((tmp_path / "recordings").rglob("*"))
    assert all(KEY not in f.read_text() for f in files if f.is_file())

    replayed = await wf.run_reactive(
        agents=agents,
        state=Doc("Oslo"),
        recording=Recording(mode="replay", store=store, name="trip"),
    )
    assert replayed.state == recorded.state
    assert [s.name for s in replayed.signals] == [s.name for s in recorded.signals]


def test_importing_the_package_does_not_import_the_sdk() -> None:
    """import openharness_actors (and making a ClaudeCodeHarness) leaves claude_agent_sdk alone."""
    code = (
        "import sys, openharness_actors as oh; oh.ClaudeCodeHarness(); "
        "print('claude_agent_sdk' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_preflight_names_a_missing_cli(tmp_path: Path) -> None:
    """preflight raises WorkflowDefinitionError when cli_path names no file."""
    from openharness_actors import WorkflowDefinitionError

    harness = ClaudeCodeHarness(cli_path=tmp_path / "no-such-claude")
    with pytest.raises(WorkflowDefinitionError, match="no claude CLI"):
        harness.preflight()
    ClaudeCodeHarness().preflight()


async def test_concurrency_limit_and_call_limiter_are_honoured(
    server: FakeAnthropic, make_harness: Callable[..., ClaudeCodeHarness]
) -> None:
    """max_concurrency=1 runs two calls one after the other; each holds a limiter permit."""
    from openharness_actors import CallLimits, LocalCallLimiter
    from openharness_actors.harness import HarnessRequest

    async def emit(event: Any) -> None:
        del event

    limiter = LocalCallLimiter(CallLimits(concurrency=2))
    server.default = text_reply("fine", latency=0.2)
    async with make_harness(max_concurrency=1, limiter=limiter) as harness:
        async with trio.open_nursery() as nursery:
            for index in range(2):
                nursery.start_soon(harness.run, HarnessRequest("a", f"q{index}", "r"), emit)
        stats = harness.statistics()
    assert (stats.calls, stats.peak_in_flight, server.statistics().peak_in_flight) == (2, 1, 1)
    assert (stats.processes_started, stats.processes_reused) == (1, 1)
    assert limiter.statistics().granted == 2 and limiter.statistics().in_use == 0


def child_pids() -> set[int]:
    """The live child processes of this process (Linux /proc)."""
    found: set[int] = set()
    for children in Path("/proc/self/task").glob("*/children"):
        found.update(int(pid) for pid in children.read_text().split())
    return {pid for pid in found if Path(f"/proc/{pid}").exists() and _alive(pid)}


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_idle_processes_close_when_the_trio_run_ends(tmp_path: Path) -> None:
    """A reused process left idle (no aclose) is closed when its trio run ends."""
    from openharness_actors.harness import HarnessRequest

    async def main() -> tuple[int, set[int]]:
        async def emit(event: Any) -> None:
            del event

        async with open_fake_anthropic(text_reply("hi")) as fake:
            (tmp_path / "home").mkdir()
            harness = ClaudeCodeHarness(env=cli_env(fake, tmp_path / "home"), cwd=tmp_path)
            await harness.run(HarnessRequest("a", "hello", "r"), emit)
            return harness.statistics().idle_processes, child_pids()

    before = child_pids()
    idle, during = trio.run(main)
    assert idle == 1 and during - before
    assert not (child_pids() - before)


def test_a_pickled_harness_keeps_its_configuration_not_its_processes() -> None:
    """Pickling (as a Ray batch ships a harness) keeps the settings, drops pool and counters."""
    import pickle

    harness = ClaudeCodeHarness("claude-haiku-4-5", max_turns=3, max_concurrency=2, reuse=False)
    copy = pickle.loads(pickle.dumps(harness))
    assert (copy.model, copy.reuse, copy.max_concurrency) == ("claude-haiku-4-5", False, 2)
    assert copy.statistics().calls == 0 and copy.statistics().idle_processes == 0


def test_the_harness_is_exported_at_the_root_and_from_its_package() -> None:
    """ClaudeCodeHarness and choose_harness are public at the root, the same objects below."""
    import openharness_actors
    import openharness_actors.harness
    import openharness_actors.harness.claude_code as claude_code

    for module in (openharness_actors, openharness_actors.harness):
        assert {"ClaudeCodeHarness", "choose_harness"} <= set(module.__all__)
        assert module.ClaudeCodeHarness is claude_code.ClaudeCodeHarness
    assert claude_code.__all__ == [
        "ClaudeCodeHarness",
        "ClaudeCodeHarnessStatistics",
        "find_cli",
        "logged_in",
    ]
