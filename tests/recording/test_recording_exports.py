"""The public surface of recording and the test kit is exactly what is meant, and sorted."""

from __future__ import annotations

import openharness_actors
import openharness_actors.recording
import openharness_actors.testing

RECORDING_NAMES = {
    "Ask",
    "Checkpoint",
    "Divergence",
    "JsonlSignalStore",
    "MemorySignalStore",
    "Player",
    "PlayerSnapshot",
    "Recorder",
    "Recording",
    "RecordingData",
    "RecordingHarness",
    "RecordingInfo",
    "RecordingPlan",
    "ReplayHarness",
    "SignalStore",
    "SqliteSignalStore",
    "ToolCallView",
    "default_store",
}
ROOT_NAMES = {
    "JsonlSignalStore",
    "MemorySignalStore",
    "Player",
    "PlayerSnapshot",
    "Recording",
    "RecordingData",
    "RecordingInfo",
    "SignalStore",
    "SqliteSignalStore",
}
TESTING_NAMES = {
    "SignalCapture",
    "assert_causal_chain",
    "assert_count",
    "assert_no_signal",
    "assert_sequence",
    "assert_signal",
    "capture_signals",
    "causal_chain",
    "find_signals",
    "format_signals",
    "signals_of",
}


def test_recording_exports() -> None:
    """openharness_actors.recording exports exactly its public names, sorted, all defined."""
    exported = openharness_actors.recording.__all__
    assert set(exported) == RECORDING_NAMES
    assert exported == sorted(exported)
    for name in exported:
        assert getattr(openharness_actors.recording, name) is not None


def test_root_reexports_recording_names() -> None:
    """The package root re-exports the recording names users need, its __all__ sorted."""
    exported = openharness_actors.__all__
    assert set(exported) >= ROOT_NAMES
    assert exported == sorted(exported)
    for name in ROOT_NAMES:
        assert getattr(openharness_actors, name) is getattr(openharness_actors.recording, name)


def test_testing_exports() -> None:
    """openharness_actors.testing exports the capture and assertion helpers, sorted."""
    exported = openharness_actors.testing.__all__
    assert set(exported) >= TESTING_NAMES
    assert exported == sorted(exported)
    for name in exported:
        assert callable(getattr(openharness_actors.testing, name))
