"""The CLI tests run ``python -m openharness_actors`` as a real subprocess, in a temporary
directory, against the workflow files in ``tests/cli_fixtures/``."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_helpers import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A command line in a temporary directory with its own default store and call log."""
    return Cli(tmp_path)
