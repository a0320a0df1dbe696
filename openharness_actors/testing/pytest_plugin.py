"""pytest plugin: record once locally, replay in CI — one fixture away.

Loaded automatically (``pytest11`` entry point) wherever openharness_actors is installed; it
only adds fixtures, a marker and options.

``workflow_recording`` — a :class:`~openharness_actors.Recording` for the test, to pass as
``recording=``. It lives in a :class:`~openharness_actors.JsonlSignalStore` directory
(``tests/fixtures/recordings`` under the rootdir, or the ``openharness_recordings`` ini
option), under an id derived from the test's node id. The mode is, first found:
``--recording-mode``, the marker's ``mode``, ``$OPENHARNESS_RECORDING_MODE``, ``"auto"``.
With ``auto``, the first run — locally, with a harness and its key — records the fixture file;
commit it, and every later run (CI) replays it with no harness call and no key. Use
``--recording-mode=replay`` in CI to make a missing fixture an error rather than a recording
attempt, and ``--recording-mode=record`` to re-record (the old file is replaced).

``@pytest.mark.workflow_recording(name=None, *, mode=None, tags=(), collect_divergences=False)``
overrides the id (``name``) and the mode for one test.

``captured_signals`` — a :class:`~openharness_actors.testing.SignalCapture` active for the
whole test (see :func:`~openharness_actors.testing.capture_signals`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..recording import JsonlSignalStore, Recording
from ..recording._config import MODES
from ._capture import SignalCapture, capture_signals

__all__ = ["captured_signals", "recording_id_for", "workflow_recording"]

MODE_ENV = "OPENHARNESS_RECORDING_MODE"
DEFAULT_DIRECTORY = "tests/fixtures/recordings"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("openharness_actors")
    group.addoption(
        "--recording-mode",
        choices=MODES,
        default=None,
        help="mode of the workflow_recording fixture: live, record, replay or auto "
        f"(default: ${MODE_ENV}, else auto)",
    )
    parser.addini(
        "openharness_recordings",
        help=f"directory of workflow_recording fixtures, relative to the rootdir "
        f"(default: {DEFAULT_DIRECTORY})",
        default=DEFAULT_DIRECTORY,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "workflow_recording(name=None, *, mode=None, tags=(), collect_divergences=False): "
        "recording id and mode for the workflow_recording fixture",
    )


def recording_id_for(nodeid: str) -> str:
    """A store-safe recording id for a pytest node id (``tests/test_x.py::test_y[a]`` gives
    ``test_x.test_y-a-``); long ids are shortened with a hash."""
    path, _, rest = nodeid.partition("::")
    stem = Path(path).stem
    text = _UNSAFE.sub("-", f"{stem}.{rest.replace('::', '.')}" if rest else stem).lstrip(".")
    if len(text) > 128:
        digest = hashlib.sha256(text.encode()).hexdigest()[:12]
        text = f"{text[:115]}-{digest}"
    return text


@pytest.fixture
def workflow_recording(request: pytest.FixtureRequest) -> Recording:
    """A Recording for this test; see the module docstring."""
    marker = request.node.get_closest_marker("workflow_recording")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    name = options.pop("name", None) or (marker.args[0] if marker and marker.args else None)
    recording_id = name or recording_id_for(request.node.nodeid)
    mode: Any = (
        request.config.getoption("recording_mode")
        or options.pop("mode", None)
        or os.environ.get(MODE_ENV)
        or "auto"
    )
    options.pop("mode", None)
    tags = ("pytest", *options.pop("tags", ()))
    directory = Path(request.config.rootpath) / str(request.config.getini("openharness_recordings"))
    store = JsonlSignalStore(directory)
    if mode == "record":
        store.path_for(recording_id).unlink(missing_ok=True)
    return Recording(
        mode=mode,
        store=store,
        recording_id=recording_id,
        name=recording_id,
        tags=tags,
        **options,
    )


@pytest.fixture
def captured_signals() -> Iterator[SignalCapture]:
    """Every signal of the runs the test starts."""
    with capture_signals() as capture:
        yield capture
