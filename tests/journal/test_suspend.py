"""Suspended runs: a journaled run that waits for outside input ends ``suspended`` and is
resumed with the signals it waited for, repeating no completed call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openharness_actors import (
    ExternalSignalError,
    Journal,
    ScriptedHarness,
    SqliteSignalStore,
    WorkflowDefinitionError,
)

from .approvalflow import AGENTS, OPTIONS, Review, echo, wf


def _names(result: Any) -> list[str]:
    return [s.name for s in result.signals]


async def test_suspend_then_resume_with_a_signal(tmp_path: Path) -> None:
    """A suspended run is finalized ``suspended``; resumed with a signal it repeats no
    completed call (the second harness sees only the new agent's call) and suspends again;
    resumed with nothing it suspends again at once, calling nothing."""
    store = SqliteSignalStore(tmp_path / "j.db")
    first = ScriptedHarness(default=echo)
    suspended = await wf.run_reactive(
        agents=AGENTS,
        state=Review("ai"),
        harness=first,
        journal=Journal(store),
        run_id="review-1",
        **OPTIONS,
    )
    assert suspended.status == "suspended"
    assert [c.agent for c in first.calls] == ["writer"]
    assert _names(suspended)[-2:] == ["workflow:waiting", "workflow:end"]
    assert (await store.list(name="review-1", status="suspended"))[0].id == "review-1"

    second = ScriptedHarness(default=echo)
    resumed = await wf.resume(
        "review-1",
        journal=Journal(store),
        agents=AGENTS,
        harness=second,
        signals=[("approval:granted", {"note": "ship it"})],
        **OPTIONS,
    )
    assert [c.agent for c in second.calls] == ["publisher"]
    assert resumed.status == "suspended"
    assert resumed.state.final == "<publish <write ai> (ship it)>"
    granted = next(s for s in resumed.signals if s.name == "approval:granted")
    assert granted.source.agent is None and granted.source.harness == "external"
    assert _names(resumed).count("workflow:waiting") == 2

    third = ScriptedHarness(default=echo)
    again = await wf.resume(
        "review-1", journal=Journal(store), agents=AGENTS, harness=third, **OPTIONS
    )
    assert third.calls == []
    assert again.status == "suspended"
    assert again.state == resumed.state
    assert _names(again) == _names(resumed)

    fourth = ScriptedHarness(default=echo)
    last = await wf.resume(
        "review-1",
        journal=Journal(store),
        agents=AGENTS,
        harness=fourth,
        signals=[("approval:denied", {"note": "shorter"})],
        **OPTIONS,
    )
    assert [c.agent for c in fourth.calls] == ["reviser"]
    assert last.status == "suspended"
    assert last.state.revised == "<revise <write ai> (shorter)>"
    assert last.state.final == resumed.state.final


async def test_resume_signals_are_checked(tmp_path: Path) -> None:
    """Resume signals must match the declared patterns, and need external= at all."""
    store = SqliteSignalStore(tmp_path / "j.db")
    await wf.run_reactive(
        agents=AGENTS,
        state=Review("ai"),
        harness=ScriptedHarness(default=echo),
        journal=Journal(store),
        run_id="review-3",
        **OPTIONS,
    )
    harness = ScriptedHarness(default=echo)
    with pytest.raises(ExternalSignalError, match="matches none"):
        await wf.resume(
            "review-3",
            journal=Journal(store),
            agents=AGENTS,
            harness=harness,
            signals=[("other:thing", None)],
            **OPTIONS,
        )
    with pytest.raises(WorkflowDefinitionError, match="external="):
        await wf.resume(
            "review-3",
            journal=Journal(store),
            agents=AGENTS,
            harness=harness,
            signals=[("approval:granted", None)],
        )
    assert harness.calls == []
