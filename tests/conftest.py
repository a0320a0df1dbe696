"""Shared test configuration.

Every test is bounded by pytest-timeout (``timeout`` in pyproject.toml), so a hang fails
instead of freezing CI; time-dependent tests use trio's ``MockClock`` with autojump.
"""

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytest_plugins = ["pytester"]

RAY_WORKER_KEY = "worker-side-key-0123456789"
"""A key that only the Ray workers' environment has (see ``ray_cluster``)."""


def set_ray_worker_env(patch: pytest.MonkeyPatch) -> None:
    """The environment Ray processes started now inherit (see ``ray_cluster``)."""
    tests = str(Path(__file__).resolve().parent)
    patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")])))
    patch.setenv("OPENHARNESS_TEST_API_KEY", RAY_WORKER_KEY)
    patch.setenv("ANTHROPIC_API_KEY", RAY_WORKER_KEY)


def connect_local_ray(ray: Any) -> None:
    """Start (and connect to) the local 2-CPU Ray cluster of ``ray_cluster``."""
    with pytest.MonkeyPatch.context() as patch:
        set_ray_worker_env(patch)
        # address="local": always a new cluster, never one another process started here
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """One local Ray cluster with 2 CPUs for the whole session (tests skip without Ray);
    the value has ``ray`` (the module) and ``worker_key``.

    Its processes inherit this environment, plus the test directory on ``PYTHONPATH`` (so
    test modules import on the workers) and ``OPENHARNESS_TEST_API_KEY`` and
    ``ANTHROPIC_API_KEY`` set to ``RAY_WORKER_KEY``, which the driver does not have. A
    module that needs another cluster (``test_ray_cluster``) disconnects and reconnects it.
    """
    ray = pytest.importorskip("ray")
    connect_local_ray(ray)
    yield SimpleNamespace(ray=ray, worker_key=RAY_WORKER_KEY)
    if ray.is_initialized():
        ray.shutdown()
