"""Fixtures for the recording tests: a store of every kind, and the scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from openharness_actors import SignalStore

from .recording_scenario import STORE_KINDS, Scenario, build_scenario, make_store


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> SignalStore:
    """A fresh store of each kind."""
    return make_store(request.param, tmp_path)


@pytest.fixture
def scenario() -> Scenario:
    """The multi-agent research scenario."""
    return build_scenario()
