"""The public surface is exactly what we mean it to be."""

from __future__ import annotations

import openharness_actors


def test_all_is_sorted_and_resolvable() -> None:
    """__all__ is sorted, has no duplicates and every name resolves."""
    names = openharness_actors.__all__
    assert list(names) == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(openharness_actors, name) is not None


def test_no_accidental_public_names() -> None:
    """Every public attribute of the package is listed in __all__."""
    public = {
        n
        for n in dir(openharness_actors)
        if not n.startswith("_")
        and not isinstance(getattr(openharness_actors, n), type(openharness_actors))
    }
    assert public == set(openharness_actors.__all__)


def test_errors_share_one_base() -> None:
    """Every exported error subclasses OpenHarnessError; the builtin mixins hold."""
    from openharness_actors import (
        OpenHarnessError,
        WorkflowDefinitionError,
        WorkflowTimeoutError,
    )

    errors = [
        getattr(openharness_actors, n) for n in openharness_actors.__all__ if n.endswith("Error")
    ]
    assert all(issubclass(e, OpenHarnessError) for e in errors)
    assert issubclass(WorkflowTimeoutError, TimeoutError)
    assert issubclass(WorkflowDefinitionError, ValueError)


def test_eval_names_exported() -> None:
    """The batch harness, budgets and their error are public, the harness imported lazily."""
    import openharness_actors.harness as harness

    for name in ("AnthropicBatchHarness", "Budget", "BudgetExceededError", "ModelBatchCounts"):
        assert name in openharness_actors.__all__
    assert "AnthropicBatchHarness" in harness.__all__
    assert harness.AnthropicBatchHarness is openharness_actors.AnthropicBatchHarness
    assert issubclass(openharness_actors.BudgetExceededError, openharness_actors.OpenHarnessError)


def test_unstorable_value_error_is_a_store_and_value_error() -> None:
    """UnstorableValueError is exported, and is both a StoreError and a ValueError."""
    from openharness_actors import StoreError, UnstorableValueError

    assert "UnstorableValueError" in openharness_actors.__all__
    assert issubclass(UnstorableValueError, StoreError)
    assert issubclass(UnstorableValueError, ValueError)


def test_external_signal_error_is_exported_and_a_value_error() -> None:
    """ExternalSignalError is public, and is both an OpenHarnessError and a ValueError."""
    from openharness_actors import ExternalSignalError, OpenHarnessError

    assert "ExternalSignalError" in openharness_actors.__all__
    assert issubclass(ExternalSignalError, OpenHarnessError)
    assert issubclass(ExternalSignalError, ValueError)
