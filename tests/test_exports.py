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


def test_batch_package_surface() -> None:
    """openharness_actors.batch exports exactly the batch names, the same objects as the root."""
    from openharness_actors import batch

    assert list(batch.__all__) == sorted(batch.__all__)
    assert set(batch.__all__) == {
        n
        for n in dir(batch)
        if not n.startswith("_") and not isinstance(getattr(batch, n), type(batch))
    }
    for name in batch.__all__:
        assert getattr(openharness_actors, name) is getattr(batch, name), name
