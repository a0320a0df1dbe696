"""Loading ``path.py:NAME`` and the initial state, in-process: every refusal names the file,
the name and what is wrong (the CLI turns each into exit code 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openharness_actors import Workflow, WorkflowDefinitionError
from openharness_actors.cli._target import initial_state, load_target

from .cli_helpers import ANALYZE, FACTORIES, FIXTURES


def test_workflow_attribute_takes_the_module_level_options() -> None:
    """``analyze.py`` (default name ``workflow``) runs with the module's agents and harness."""
    target = load_target(ANALYZE)
    assert isinstance(target.workflow, Workflow)
    assert set(target.options) == {"agents", "harness"}
    assert set(target.options["agents"]) == {"analyzer", "summarizer"}
    assert load_target(f"{ANALYZE}:workflow").options.keys() == target.options.keys()


def test_factory_returns_workflow_and_options() -> None:
    """A factory's mapping gives the workflow and the options, end_when included."""
    target = load_target(f"{FACTORIES}:ending")
    assert set(target.options) == {"agents", "harness", "end_when"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope", "has no attribute 'nope' (it defines: "),
        ("loop_workflow", "is a Workflow, but factories.py defines no `agents` mapping"),
        ("not_callable", "'not_callable' is of type int, not a Workflow or a factory"),
        ("not_a_mapping", "returned a value of type list, not a mapping"),
        ("unknown_option", "returned unknown option(s) timeout"),
        ("no_agents", "factory 'no_agents' returned no 'agents'"),
        ("raises", "calling factory 'raises' raised RuntimeError('no config')"),
    ],
)
def test_bad_targets_are_definition_errors_naming_the_problem(name: str, message: str) -> None:
    """Each wrong attribute is refused with a message that says what is wrong."""
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_target(f"{FACTORIES}:{name}")
    assert message in str(caught.value)
    assert str(caught.value).startswith(f"{FACTORIES}:{name}: ")


def test_name_hint_lists_only_workflows_and_functions_of_the_file() -> None:
    """The hint for a missing name lists the file's own workflows and functions, not imports."""
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_target(f"{ANALYZE}:nope")
    assert str(caught.value).endswith("(it defines: reply, workflow)")


def test_missing_file_and_failing_import_are_refused(tmp_path: Path) -> None:
    """A missing file, and a file whose import raises (with its traceback), are refused."""
    with pytest.raises(WorkflowDefinitionError, match="no such file"):
        load_target(str(FIXTURES / "absent.py"))
    broken = tmp_path / "broken_flow.py"
    broken.write_text("import nothing_of_that_name\n")
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_target(f"{broken}:workflow")
    assert "ModuleNotFoundError" in str(caught.value)
    assert 'broken_flow.py", line 1' in str(caught.value)


def test_initial_state_is_structured_into_the_state_type() -> None:
    """JSON becomes the attrs state; a missing field is a definition error naming it."""
    target = load_target(ANALYZE)
    state = initial_state(target, {"input": "x"})
    assert state.input == "x" and state.summary is None
    with pytest.raises(WorkflowDefinitionError, match=r"required field missing @ state\.input"):
        initial_state(target, {"text": "x"})
