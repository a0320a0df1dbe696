"""Human in the loop: external signals sent into a run, and runs that wait for them."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    ExternalSignalError,
    OpenHarnessError,
    ScriptedHarness,
    WorkflowCancelledError,
    WorkflowDefinitionError,
    WorkflowTimeoutError,
    create_workflow,
    open_engine,
)
from openharness_actors._engine import RunHandle


@attrs.frozen
class Doc:
    draft: str | None = None
    final: str | None = None
    notes: tuple[str, ...] = ()


wf = create_workflow(Doc)
AGENTS: dict[str, Any] = {
    "writer": wf.agent(
        prompt="write", activate_on="workflow:start", updates="draft", emits=["approval:requested"]
    ),
    "publisher": wf.agent(
        prompt="publish {{ signal.payload.note }}", activate_on="approval:granted", updates="final"
    ),
}


def _echo(request: Any) -> str:
    return f"<{request.prompt}>"


async def _next_waiting(run: RunHandle[Any], after: int = -1) -> int:
    """The log index of the first ``workflow:waiting`` after index ``after``."""
    async for signal in run.signals("workflow:waiting", start=after + 1):
        return signal.seq
    raise AssertionError("the run ended without waiting")


async def test_waiting_run_continues_on_send() -> None:
    """A quiet run that declares external input waits, goes on when a signal is sent, and
    waits again; end_input then ends it completed."""
    harness = ScriptedHarness(default=_echo)
    async with open_engine() as engine:
        run = await engine.start(
            wf, agents=AGENTS, state=Doc(), harness=harness, external=["approval:*"]
        )
        first = await _next_waiting(run)
        assert not run.done and run.awaited == ("approval:*",)
        assert [c.agent for c in harness.calls] == ["writer"]
        sent_id = await run.send("approval:granted", {"note": "ok"})
        second = await _next_waiting(run, first)
        assert [c.agent for c in harness.calls] == ["writer", "publisher"]
        await run.end_input()
        result = await run.result()
    assert result.status == "completed"
    assert result.state.final == "<publish ok>"
    waiting = [s for s in result.signals if s.name == "workflow:waiting"]
    assert [s.seq for s in waiting] == [first, second]
    assert waiting[0].payload == {"patterns": ["approval:*"]}
    granted = next(s for s in result.signals if s.name == "approval:granted")
    assert granted.id == sent_id and granted.payload == {"note": "ok"}
    assert granted.source.agent is None and granted.source.harness == "external"
    assert first < granted.seq < second


async def test_waiting_is_true_exactly_while_the_run_waits() -> None:
    """RunHandle.waiting: false while the run works, true once it waits (the moment
    workflow:waiting is logged), false from the moment a send is made, false once ended."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
        )
        assert not run.waiting  # started, not yet quiet
        first = await _next_waiting(run)
        assert run.waiting  # no checkpoint between logging workflow:waiting and this
        await run.send("approval:granted", {"note": "ok"})
        assert not run.waiting  # the send's work is under way
        await _next_waiting(run, first)
        assert run.waiting
        await run.end_input()
        assert not run.waiting  # input ended: nothing is awaited any more
        await run.result()
        assert not run.waiting


@pytest.mark.parametrize(
    "name",
    [
        "state:final:changed",
        "workflow:end",
        "workflow:waiting",
        "agent:completed",
        "harness:end",
        "approval",
        "other:signal",
        "approval:*",
        42,
    ],
)
async def test_refused_names(name: Any) -> None:
    """Engine names, undeclared names and non-names are refused with an error naming the
    declared patterns, and nothing enters the log."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*", "note:added"],
        )
        await _next_waiting(run)
        before = len(list(run._core.log.signals))
        with pytest.raises(ExternalSignalError) as caught:
            await run.send(name)
        assert isinstance(caught.value, OpenHarnessError) and isinstance(caught.value, ValueError)
        assert "'approval:*', 'note:added'" in str(caught.value)
        assert caught.value.patterns == ("approval:*", "note:added")
        assert len(list(run._core.log.signals)) == before
        await run.end_input()
        assert (await run.result()).status == "completed"


async def test_non_json_payload_is_refused_before_the_log() -> None:
    """A payload with no JSON form (or not a mapping) is refused; the log never sees it."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
        )
        await _next_waiting(run)
        with pytest.raises(ExternalSignalError, match="no JSON form"):
            await run.send("approval:granted", {"note": object()})
        with pytest.raises(ExternalSignalError, match="must be a mapping"):
            await run.send("approval:granted", ["ok"])  # type: ignore[arg-type]
        await run.end_input()
        result = await run.result()
    assert not any(s.name == "approval:granted" for s in result.signals)
    assert result.state.final is None


async def test_end_input_before_quiescence_ends_without_waiting() -> None:
    """end_input called while the run is busy: it completes at quiescence, never waiting."""
    gate = trio.Event()

    async def slow(request: Any) -> str:
        await gate.wait()
        return "draft"

    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=slow),
            external=["approval:*"],
        )
        await run.end_input()
        assert run.awaited == ()
        gate.set()
        result = await run.result()
    assert result.status == "completed"
    assert not any(s.name == "workflow:waiting" for s in result.signals)
    assert result.state.draft == "draft"


async def test_end_input_lets_a_sent_signal_finish() -> None:
    """end_input right after a send: the sent signal's work completes before the run ends."""
    harness = ScriptedHarness(default=_echo)
    async with open_engine() as engine:
        run = await engine.start(
            wf, agents=AGENTS, state=Doc(), harness=harness, external=["approval:*"]
        )
        await _next_waiting(run)
        await run.send("approval:granted", {"note": "late"})
        await run.end_input()
        result = await run.result()
    assert result.status == "completed"
    assert result.state.final == "<publish late>"
    assert [s.name for s in result.signals].count("workflow:waiting") == 1


async def test_timeout_bounds_a_waiting_run(autojump_clock: trio.testing.MockClock) -> None:
    """A waiting run that receives nothing times out at its timeout, with its partial."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
            timeout=30,
        )
        await _next_waiting(run)
        started = trio.current_time()
        with pytest.raises(WorkflowTimeoutError) as caught:
            await run.result()
    assert 0 < trio.current_time() - started <= 30
    assert caught.value.partial is not None
    assert caught.value.partial.status == "timeout"
    assert any(s.name == "workflow:waiting" for s in caught.value.partial.signals)


async def test_cancel_a_waiting_run() -> None:
    """A waiting run can be cancelled; it ends cancelled."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
        )
        await _next_waiting(run)
        run.cancel()
        with pytest.raises(WorkflowCancelledError):
            await run.result()


async def test_end_when_ends_a_waiting_run() -> None:
    """A sent signal whose work makes end_when hold ends the run (terminated), no new wait."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
            end_when=lambda s: s.final is not None,
        )
        await _next_waiting(run)
        await run.send("approval:granted", {"note": "go"})
        result = await run.result()
    assert result.status == "terminated"
    assert [s.name for s in result.signals].count("workflow:waiting") == 1


async def test_send_to_an_ended_run_is_an_error() -> None:
    """Sending to a run that has ended raises ExternalSignalError saying so."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
        )
        await run.end_input()
        await run.wait()
        with pytest.raises(ExternalSignalError, match="has ended"):
            await run.send("approval:granted", {"note": "too late"})


async def test_send_without_external_is_an_error() -> None:
    """A run started without external= accepts no signal from outside."""
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents={"writer": AGENTS["writer"]},
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
        )
        with pytest.raises(ExternalSignalError, match="declares no external signals"):
            await run.send("approval:granted")
        assert (await run.result()).status == "completed"


async def test_concurrent_sends_are_both_logged_in_order() -> None:
    """Two sends from concurrent tasks are both logged, in the order they were queued."""
    notes = wf.agent(body=lambda ctx: None, activate_on="note:added")
    queued: list[str] = []

    async def send(run: RunHandle[Doc], n: str) -> None:
        queued.append(await run.send("note:added", {"n": n}))

    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents={"notes": notes},
            state=Doc(),
            external=["note:added"],
            reducers={
                "note:added": lambda s, sig: attrs.evolve(s, notes=(*s.notes, sig.payload["n"]))
            },
        )
        await _next_waiting(run)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(send, run, "a")
            nursery.start_soon(send, run, "b")
        await run.end_input()
        result = await run.result()
    logged = [s for s in result.signals if s.name == "note:added"]
    assert [s.id for s in logged] == queued
    assert sorted(s.payload["n"] for s in logged) == ["a", "b"]
    assert result.state.notes == tuple(s.payload["n"] for s in logged)


async def test_no_listener_means_no_wait() -> None:
    """A run whose declared external patterns no agent listens on ends at quiescence."""
    result = await wf.run_reactive(
        agents={"writer": AGENTS["writer"]},
        state=Doc(),
        harness=ScriptedHarness(default=_echo),
        external=["approval:*"],
    )
    assert result.status == "completed"
    assert not any(s.name == "workflow:waiting" for s in result.signals)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"external": ["state:*"]}, "reserved namespace 'state'"),
        ({"external": ["workflow:waiting"]}, "reserved namespace 'workflow'"),
        ({"external": ["a:[x"]}, "external"),
        ({"external": [42]}, "external"),
        ({"external": []}, "external is empty"),
        ({"external": ["approval:*"], "on_wait": "later"}, "on_wait must be"),
        ({"external": ["approval:*"], "on_wait": "suspend"}, "needs journal="),
    ],
)
async def test_bad_external_options_are_definition_errors(
    options: dict[str, Any], message: str
) -> None:
    """Bad external patterns and on_wait values are refused before the run starts."""
    harness = ScriptedHarness(default=_echo)
    with pytest.raises(WorkflowDefinitionError, match=message):
        await wf.run_reactive(agents=AGENTS, state=Doc(), harness=harness, **options)
    async with open_engine() as engine:
        with pytest.raises(WorkflowDefinitionError, match=message):
            await engine.start(wf, agents=AGENTS, state=Doc(), harness=harness, **options)
    assert harness.calls == []


async def test_send_right_after_start_is_logged_after_workflow_start() -> None:
    """A send made at once after Engine.start lands after workflow:start and is acted on."""
    harness = ScriptedHarness(default=_echo)
    async with open_engine() as engine:
        run = await engine.start(
            wf, agents=AGENTS, state=Doc(), harness=harness, external=["approval:*"]
        )
        await run.send("approval:granted", {"note": "early"})
        await run.end_input()
        result = await run.result()
    assert result.signals[0].name == "workflow:start"
    assert result.state.final == "<publish early>"
    assert result.status == "completed"


async def test_replay_of_a_waiting_run_re_sends_its_external_signals() -> None:
    """A recorded run that received external signals replays on its own: each recorded
    signal is sent at its wait, no harness is called, and the log is the recorded one."""
    from openharness_actors import MemorySignalStore, Recording

    store = MemorySignalStore()
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
            recording=Recording(mode="record", store=store, name="hitl"),
        )
        first = await _next_waiting(run)
        await run.send("approval:granted", {"note": "recorded"})
        await _next_waiting(run, first)
        await run.end_input()
        recorded = await run.result()
        replay = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            external=["approval:*"],
            recording=Recording(mode="replay", store=store, name="hitl"),
        )
        replayed = await replay.result()
    assert replayed.status == "completed"
    assert replayed.state == recorded.state
    assert [s.name for s in replayed.signals] == [s.name for s in recorded.signals]


async def test_live_view_shows_what_a_run_waits_for() -> None:
    """The live view shows the awaited patterns while a run waits, and drops them once an
    external signal arrives; plain output has a line for the wait."""
    import io

    from openharness_actors import LiveReporter, Signal

    live = LiveReporter(io.StringIO(), tty=True, refresh=1000.0, width=100)
    seen_wait = trio.Event()
    shown: list[list[str]] = []

    class Spy:
        """Feeds the live view, and notes what it shows right after the first wait."""

        def on_signal(self, signal: Signal) -> None:
            live.on_signal(signal)
            if signal.name == "workflow:waiting" and not seen_wait.is_set():
                shown.append(live.lines())
                seen_wait.set()

    plain_out = io.StringIO()
    async with open_engine() as engine:
        run = await engine.start(
            wf,
            agents=AGENTS,
            state=Doc(),
            harness=ScriptedHarness(default=_echo),
            external=["approval:*"],
            reporters=[Spy(), LiveReporter(plain_out, tty=False)],
        )
        first = await _next_waiting(run)
        await seen_wait.wait()
        await run.send("approval:granted", {"note": "ok"})
        await _next_waiting(run, first)
        await run.end_input()
        await run.result()
    assert shown[0][-1] == f" ⏸ run {run.run_id} waiting for approval:*"
    assert not any("waiting for" in line for line in live.lines())
    assert f"run {run.run_id} waiting for approval:*" in plain_out.getvalue()


def test_check_treats_external_and_waiting_as_producible() -> None:
    """With external patterns, agents on them and on workflow:waiting are reachable."""
    reminder = wf.agent(body=lambda ctx: None, activate_on="workflow:waiting")
    agents = {**AGENTS, "reminder": reminder}
    unreachable = {f.agent for f in wf.check(agents=agents) if f.kind == "unreachable"}
    assert unreachable == {"publisher", "reminder"}
    findings = wf.check(agents=agents, external=["approval:*"])
    assert not [f for f in findings if f.kind == "unreachable"]
