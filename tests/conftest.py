"""Shared test configuration.

Every test is bounded by pytest-timeout (``timeout`` in pyproject.toml), so a hang fails
instead of freezing CI; time-dependent tests use trio's ``MockClock`` with autojump.
"""

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from .ray_helpers import RAY_WORKER_KEY, connect_local_ray

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """One local Ray cluster with 2 CPUs for the whole session (tests skip without Ray);
    the value has ``ray`` (the module) and ``worker_key``.

    Its processes inherit this environment, plus the project root on ``PYTHONPATH`` (so
    test modules, ``tests.…``, import on the workers) and ``OPENHARNESS_TEST_API_KEY`` and
    ``ANTHROPIC_API_KEY`` set to ``RAY_WORKER_KEY``, which the driver does not have. A
    module that needs another cluster (``test_ray_cluster``) disconnects and reconnects it.
    """
    ray = pytest.importorskip("ray")
    connect_local_ray(ray)
    yield SimpleNamespace(ray=ray, worker_key=RAY_WORKER_KEY)
    if ray.is_initialized():
        ray.shutdown()


SLOW_MODULES = frozenset(
    {
        "test_service.py",
        "test_crash_points.py",
        "test_racing_resume.py",
        "test_interrupt.py",
        "test_docs.py",
        "test_examples.py",
        "test_harness_claude_code.py",
        "test_benchmarks_smoke.py",
        "test_benchmark_peers.py",
        "test_benchmark_replay.py",
        "test_benchmark_ray_batch.py",
    }
)
"""Modules whose tests start processes (a CLI, a server, a bundled claude CLI, benchmarks)."""

RAY_MODULES = frozenset(
    {
        "test_ray_batch.py",
        "test_ray_cluster.py",
        "test_budget_ray.py",
        "test_benchmark_ray_batch.py",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark process-starting tests ``slow`` and Ray tests ``ray``, so that
    ``pytest -m "not slow and not ray"`` is a quick inner loop; plain ``pytest`` (the
    README's command, CI's) still runs everything."""
    for item in items:
        name = item.path.name
        if name in SLOW_MODULES or item.path.parent.name == "cli":
            item.add_marker(pytest.mark.slow)
        if name in RAY_MODULES:
            item.add_marker(pytest.mark.ray)
