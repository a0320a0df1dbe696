"""Flow analysis: ``workflow.check`` finds self-waking, unreachable and unconsumed flow."""

from __future__ import annotations

import attrs
import pytest

from openharness_actors import Finding, create_workflow


@attrs.frozen
class State:
    topic: str = ""
    draft: str | None = None
    notes: str | None = None


wf = create_workflow(State)


def kinds(findings: tuple[Finding, ...]) -> list[tuple[str, str | None]]:
    return [(f.kind, f.agent) for f in findings]


def test_self_wake_names_agent_pattern_and_builtin() -> None:
    """An agent on '*:complete' wakes on its own text:complete: a warning naming both."""
    echo = wf.agent(prompt="x", activate_on=["workflow:start", "*:complete"])
    (finding,) = wf.check(agents={"echo": echo})
    assert finding.kind == "self_wake"
    assert finding.severity == "warning"
    assert finding.agent == "echo"
    assert "'*:complete'" in finding.message
    assert "'text:complete'" in finding.message


def test_self_wake_through_own_emit_and_state_change() -> None:
    """Its own emit and its own state:<key>:changed count as self-produced."""
    a = wf.agent(prompt="x", activate_on=["workflow:start", "draft:*"], emits=["draft:ready"])
    b = wf.agent(prompt="x", activate_on=["workflow:start", "state:notes:changed"], updates="notes")
    found = wf.check(agents={"a": a, "b": b})
    assert kinds(found) == [("self_wake", "a"), ("self_wake", "b")]
    assert "'draft:ready'" in found[0].message
    assert "'state:notes:changed'" in found[1].message


def test_body_agents_produce_no_harness_signals() -> None:
    """A plain-Python agent makes no text:complete, so '*:complete' does not self-wake it."""
    glue = wf.agent(body=lambda ctx: None, activate_on=["workflow:start", "*:complete"])
    assert wf.check(agents={"glue": glue}) == ()


def test_unreachable_agent_and_unconsumed_emit() -> None:
    """A listener nothing can wake is a warning; an emit nobody reads is info."""
    writer = wf.agent(prompt="x", activate_on=["workflow:start"], emits=["draft:done"])
    orphan = wf.agent(prompt="x", activate_on=["review:done"])
    found = wf.check(agents={"writer": writer, "orphan": orphan})
    assert kinds(found) == [("unconsumed", "writer"), ("unreachable", "orphan")]
    unconsumed, unreachable = found
    assert unconsumed.severity == "info" and "'draft:done'" in unconsumed.message
    assert unreachable.severity == "warning" and "'review:done'" in unreachable.message


def test_unreachable_is_transitive() -> None:
    """An agent woken only by an unreachable agent's emit is unreachable too."""
    first = wf.agent(prompt="x", activate_on=["never:sent"], emits=["first:done"])
    second = wf.agent(prompt="x", activate_on=["first:done"])
    found = wf.check(agents={"first": first, "second": second})
    assert kinds(found) == [("unreachable", "first"), ("unreachable", "second")]


def test_external_globs_make_agents_reachable() -> None:
    """An external glob pattern that overlaps a listener's pattern makes it reachable."""
    human = wf.agent(prompt="x", activate_on=["human:*:reply"])
    assert kinds(wf.check(agents={"human": human})) == [("unreachable", "human")]
    assert wf.check(agents={"human": human}, external=["human:**"]) == ()
    assert kinds(wf.check(agents={"human": human}, external=["robot:**"])) == [
        ("unreachable", "human")
    ]


def test_reducers_consume_emits_and_cause_state_changes() -> None:
    """A reducer listening to an emit consumes it; its state changes can wake agents."""
    source = wf.agent(prompt="x", activate_on=["workflow:start"], emits=["note:added"])
    watcher = wf.agent(prompt="x", activate_on=["state:notes:changed"])
    reducers = {"note:*": lambda state, signal: state}
    assert wf.check(agents={"source": source, "watcher": watcher}, reducers=reducers) == ()
    assert kinds(wf.check(agents={"source": source, "watcher": watcher})) == [
        ("unconsumed", "source"),
        ("unreachable", "watcher"),
    ]


def test_clean_pipeline_has_no_findings() -> None:
    """A start -> draft -> review pipeline with a consumed final emit has no findings."""
    draft = wf.agent(
        prompt="x", activate_on=["workflow:start"], updates="draft", emits=["draft:done"]
    )
    review = wf.agent(prompt="x", activate_on=["draft:done"], emits=["review:done"])
    close = wf.agent(body=lambda ctx: None, activate_on=["review:done"])
    assert wf.check(agents={"draft": draft, "review": review, "close": close}) == ()


@pytest.mark.parametrize("skipped", ["agent:skipped", "workflow:end"])
def test_non_triggering_signals_wake_nobody(skipped: str) -> None:
    """Listening only to signals that never activate agents is unreachable."""
    a = wf.agent(prompt="x", activate_on=[skipped])
    b = wf.agent(body=lambda ctx: None, activate_on=["workflow:start"])
    assert kinds(wf.check(agents={"a": a, "b": b})) == [("unreachable", "a")]


def test_finding_is_a_frozen_value() -> None:
    """Findings are frozen attrs values that compare by value."""
    finding = Finding("unreachable", "warning", "a", "m")
    assert finding == Finding("unreachable", "warning", "a", "m")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        finding.kind = "x"  # type: ignore[misc]
    assert str(finding) == "warning: unreachable: m"


def test_joins_need_every_pattern_and_count_as_consumers() -> None:
    """A join is reachable only when each of its patterns is; its patterns consume emits;
    it self-wakes only when its own signals alone can complete it."""
    from openharness_actors import all_of

    a = wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["a:done"])
    half = wf.agent(body=lambda ctx: None, activate_on=[all_of("a:done", "b:done")])
    assert kinds(wf.check(agents={"a": a, "half": half})) == [("unreachable", "half")]
    b = wf.agent(body=lambda ctx: None, activate_on=["workflow:start"], emits=["b:done"])
    assert wf.check(agents={"a": a, "b": b, "half": half}) == ()
    counted = wf.agent(prompt="x", activate_on=["workflow:start", all_of("*:complete", count=2)])
    assert wf.check(agents={"counted": counted}) == ()  # one text:complete per activation
    both = wf.agent(
        prompt="x",
        activate_on=["workflow:start", all_of("*:complete", count=2)],
        emits=["x:complete"],
    )
    found = wf.check(agents={"both": both})
    assert kinds(found) == [("self_wake", "both")]
    assert "all_of('*:complete', count=2)" in found[0].message
