"""The run options have one definition (``RunSettings``): the typed keyword arguments of each
entry point are pinned to its fields, every entry point refuses an unknown option by name
before anything runs, and the one validator reports every bad value at once."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path
from typing import Any

import attrs
import pytest

from openharness_actors import (
    Budget,
    Journal,
    ScriptedHarness,
    SqliteSignalStore,
    UnknownOptionError,
    WorkflowDefinitionError,
    create_workflow,
    open_engine,
    run_batch,
)
from openharness_actors._core._run import RunOptions
from openharness_actors._define import _options
from openharness_actors._define._options import (
    BATCH,
    ENGINE,
    PREPARE,
    RESUME,
    RUN,
    BatchKeywords,
    PrepareKeywords,
    ResumeKeywords,
    RunKeywords,
    RunSettings,
)
from openharness_actors._engine import Engine
from openharness_actors.batch._run import run_batch as batch_entry

FIELDS = {field.name for field in attrs.fields(RunSettings)}

# What each entry point leaves out of its ``**options``, and why (the module docstring).
LEFT_OUT: dict[Any, set[str]] = {
    RunKeywords: {"agents"},  # a parameter of its own everywhere
    PrepareKeywords: {"agents", "journal", "budget"},  # they need the run to be run
    ResumeKeywords: {"agents", "journal", "state", "recording", "run_id"},  # the journal's
    BatchKeywords: {"agents", "run_id", "budget"},  # batch-wide parameters of run_batch
}
# A batch shares one account among its cases through the field; users pass a Budget.
NARROWED = {"budget": Budget | None}


@pytest.mark.parametrize("keywords", list(LEFT_OUT), ids=lambda k: k.__name__)
def test_keyword_types_are_the_fields(keywords: Any) -> None:
    """Each entry point's typed keywords are exactly the fields it takes, with the fields'
    types: the TypedDict and the attrs class cannot drift apart."""
    assert set(keywords.__optional_keys__) == FIELDS - LEFT_OUT[keywords]
    assert not keywords.__required_keys__
    fields = typing.get_type_hints(RunSettings)
    for name, hint in typing.get_type_hints(keywords).items():
        assert hint == NARROWED.get(name, fields[name]), name


def test_entries_take_their_keywords() -> None:
    """Each entry's accepted options are its TypedDict's keys, and what it refuses with a
    reason is what its TypedDict leaves out."""
    assert RUN.options == ENGINE.options == set(RunKeywords.__optional_keys__)
    assert PREPARE.options == set(PrepareKeywords.__optional_keys__)
    assert RESUME.options == set(ResumeKeywords.__optional_keys__)
    assert BATCH.options == set(BatchKeywords.__optional_keys__)
    assert set(PREPARE.elsewhere) == {"journal", "budget"}
    assert set(RESUME.elsewhere) == {"state", "recording", "run_id"}


@pytest.mark.parametrize(
    ("function", "keywords", "own"),
    [
        (create_workflow(dict).run_reactive, RunKeywords, {"agents", "state"}),
        (Engine.start, RunKeywords, {"self", "workflow", "agents", "state"}),
        (
            create_workflow(dict).prepare,
            PrepareKeywords,
            {"agents", "state", "observers", "extensions"},
        ),
        (
            create_workflow(dict).resume,
            ResumeKeywords,
            {"run_id", "journal", "agents", "force", "signals"},
        ),
    ],
    ids=["run_reactive", "Engine.start", "prepare", "resume"],
)
def test_signatures_spell_no_option_out(function: Any, keywords: Any, own: set[str]) -> None:
    """The entry points declare their own parameters and take every run option through the
    one ``**options`` (no option is written out a second time in a signature)."""
    parameters = inspect.signature(function).parameters
    assert set(parameters) - {"options"} == own
    assert parameters["options"].kind is inspect.Parameter.VAR_KEYWORD
    assert not (own - {"self", "agents", "journal", "run_id", "state"}) & FIELDS


def test_run_batch_options_overlap_only_in_its_batch_wide_ones() -> None:
    """run_batch's own parameters that share a field's name are exactly the batch-wide ones
    (``budget``, ``run_id``) and ``agents``."""
    parameters = set(inspect.signature(batch_entry).parameters) - {"run_options"}
    assert parameters & FIELDS == {"agents", "budget", "run_id"}


def test_defaults_agree_with_the_core() -> None:
    """The fields the core's RunOptions shares have the same defaults (the core cannot
    import the definition, so the defaults are pinned here)."""
    core = {field.name: field.default for field in attrs.fields(RunOptions)}
    shared = FIELDS & set(core) - {"agents", "reducers", "external"}
    assert shared >= {"on_end", "timeout", "max_activations", "mailbox_size", "inbox_size"}
    for field in attrs.fields(RunSettings):
        if field.name in shared:
            assert field.default == core[field.name], field.name


def test_every_option_is_documented() -> None:
    """Each field of RunSettings is followed by its docstring."""
    tree = ast.parse(Path(_options.__file__).read_text())
    (klass,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "RunSettings"]
    documented = set()
    for field, after in zip(klass.body, klass.body[1:], strict=False):
        if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name):
            is_doc = isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
            if is_doc:
                documented.add(field.target.id)
    assert documented == FIELDS


def test_the_validator_reports_every_bad_option_at_once() -> None:
    """validate() returns one problem per bad option, and the run's error lists them all."""
    wf = create_workflow(dict)
    agent = wf.agent(prompt="x", activate_on="workflow:start", updates="out")
    bad: dict[str, tuple[Any, str]] = {
        "harness": (object(), "does not implement the Harness protocol"),
        "end_when": (3, "end_when must be callable"),
        "on_end": ("stop", "on_end must be"),
        "timeout": (-1, "timeout must be a positive number"),
        "reducers": ({"a:b": "not callable"}, "reducer for 'a:b' is not callable"),
        "reporters": ([object()], "has no on_signal(signal) method"),
        "max_activations": (0, "max_activations must be"),
        "restart": ("always", "restart must be a RestartPolicy"),
        "mailbox_size": (-1, "mailbox_size must be"),
        "inbox_size": (0, "inbox_size must be"),
        "on_wait": ("sleep", "on_wait must be"),
    }
    values = {name: value for name, (value, _) in bad.items()}
    problems = RunSettings(agents={"a": agent}, budget=10, **values).validate().problems  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    expected = [*(text for _, text in bad.values()), "budget must be a Budget"]
    assert len(problems) == len(expected)
    for text in expected:
        assert any(text in p for p in problems), text
    with pytest.raises(WorkflowDefinitionError) as caught:
        wf.prepare(agents={"a": agent}, state={"out": None}, **values)
    assert set(problems) - set(caught.value.problems) == {"budget must be a Budget, not 10"}
    valid = RunSettings(agents={"a": agent}, reducers={"x:*": lambda s, _: s}, external=["in:*"])
    checked = valid.validate()
    assert checked.problems == ()
    assert [p.source for p, _ in checked.reducers] == ["x:*"]
    assert checked.external is not None and checked.external is not valid.validate().external


def test_journal_and_recording_together_are_refused() -> None:
    """A journaled run is recorded by its journal: giving both is a problem."""
    wf = create_workflow(dict)
    agent = wf.agent(prompt="x", activate_on="workflow:start", updates="out")
    settings: RunSettings[dict[str, object]] = RunSettings(
        agents={"a": agent}, journal=Journal(SqliteSignalStore(":memory:")), recording="record"
    )
    assert any("either recording= or journal=" in p for p in settings.validate().problems)


# -- unknown options, at every entry point, before anything runs --------------------------


def _workflow() -> tuple[Any, dict[str, Any], ScriptedHarness]:
    wf = create_workflow(dict)
    agents = {"a": wf.agent(prompt="x", activate_on="workflow:start", updates="out")}
    return wf, agents, ScriptedHarness(default="done")


def _check_refusal(error: UnknownOptionError, entry: str, unknown: list[str]) -> None:
    assert isinstance(error, WorkflowDefinitionError)
    assert isinstance(error, TypeError)  # like Python's unexpected keyword argument
    assert list(error.unknown) == unknown
    assert str(error).startswith(f"{entry}() got unknown option")
    for name in unknown:
        assert f"{name}=" in str(error)
    assert "timeout" in error.known and "timeout" in str(error)


async def test_run_reactive_refuses_an_unknown_option(tmp_path: Path) -> None:
    """A misspelt option is named, with the option it was probably meant to be; nothing runs
    and nothing is written."""
    wf, agents, harness = _workflow()
    with pytest.raises(UnknownOptionError) as caught:
        await wf.run_reactive(
            agents=agents,
            state={"out": None},
            harness=harness,
            jornal=Journal(SqliteSignalStore(tmp_path / "j.db")),
        )
    _check_refusal(caught.value, "run_reactive", ["jornal"])
    assert "did you mean journal=?" in str(caught.value)
    assert harness.calls == [] and not (tmp_path / "j.db").exists()


async def test_engine_start_refuses_an_unknown_option() -> None:
    """Engine.start names the unknown options; the engine started nothing."""
    wf, agents, harness = _workflow()
    async with open_engine() as engine:
        with pytest.raises(UnknownOptionError) as caught:
            await engine.start(
                wf,
                agents=agents,
                state={"out": None},
                harness=harness,
                timeuot=3,  # type: ignore[call-arg]
                colour="red",  # pyright: ignore[reportCallIssue]
            )
        assert engine.statistics().started == 0
    _check_refusal(caught.value, "Engine.start", ["timeuot", "colour"])
    assert harness.calls == []


def test_prepare_refuses_what_needs_a_run() -> None:
    """prepare() builds a run without running it: journal= and budget= are refused with the
    reason."""
    wf, agents, _ = _workflow()
    with pytest.raises(UnknownOptionError) as caught:
        wf.prepare(agents=agents, state={"out": None}, budget=Budget(usd=1))
    _check_refusal(caught.value, "prepare", ["budget"])
    assert "run_reactive() or Engine.start() apply a budget" in str(caught.value)


async def test_resume_refuses_state_with_the_reason(tmp_path: Path) -> None:
    """resume() takes no state=: the journal has it; nothing is read or locked."""
    wf, agents, harness = _workflow()
    journal = Journal(SqliteSignalStore(tmp_path / "j.db"))
    with pytest.raises(UnknownOptionError) as caught:
        await wf.resume(
            "r1",
            journal=journal,
            agents=agents,
            harness=harness,
            state={"out": None},
        )
    _check_refusal(caught.value, "resume", ["state"])
    assert "journaled initial state" in str(caught.value)


async def test_run_batch_refuses_an_unknown_option_before_any_case(tmp_path: Path) -> None:
    """run_batch refuses an unknown run option before it reads inputs or opens its results
    file."""
    wf, agents, harness = _workflow()
    results = tmp_path / "results.jsonl"
    with pytest.raises(UnknownOptionError) as caught:
        await run_batch(
            wf,
            [{"out": None}],
            agents=agents,
            harness=harness,
            results_path=results,
            max_activation=3,  # type: ignore[call-arg]
        )
    _check_refusal(caught.value, "run_batch", ["max_activation"])
    assert "did you mean max_activations=?" in str(caught.value)
    assert harness.calls == [] and not results.exists()
