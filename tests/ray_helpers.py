"""Ray helpers shared by the test modules: the workers' environment and the local cluster."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

RAY_WORKER_KEY = "worker-side-key-0123456789"
"""A key that only the Ray workers' environment has (see ``ray_cluster``)."""


def set_ray_worker_env(patch: pytest.MonkeyPatch) -> None:
    """The environment Ray processes started now inherit (see ``ray_cluster``)."""
    root = str(Path(__file__).resolve().parent.parent)  # test modules are ``tests.…``
    patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    patch.setenv("OPENHARNESS_TEST_API_KEY", RAY_WORKER_KEY)
    patch.setenv("ANTHROPIC_API_KEY", RAY_WORKER_KEY)


def connect_local_ray(ray: Any) -> None:
    """Start (and connect to) the local 2-CPU Ray cluster of ``ray_cluster``."""
    with pytest.MonkeyPatch.context() as patch:
        set_ray_worker_env(patch)
        # address="local": always a new cluster, never one another process started here
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
