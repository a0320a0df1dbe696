"""The pytest plugin: the workflow_recording fixture records once, then replays."""

from __future__ import annotations

import pytest

from openharness_actors.testing.pytest_plugin import recording_id_for

TEST_FILE = """
import os
import pytest
from openharness_actors import ScriptedHarness, create_workflow

wf = create_workflow(dict)
agent = wf.agent(prompt="Say something", activate_on="workflow:start", updates="out")

async def test_greeting(workflow_recording):
    harness = ScriptedHarness({"a": os.environ["REPLY"]})
    result = await wf.run_reactive(
        agents={"a": agent}, state={"out": None}, harness=harness, recording=workflow_recording
    )
    assert result.state["out"] == os.environ["EXPECT"]
    assert result.recording_id == workflow_recording.recording_id

@pytest.mark.workflow_recording("custom-name", tags=["smoke"])
async def test_marked(workflow_recording):
    assert workflow_recording.recording_id == "custom-name"
    assert workflow_recording.tags == ("pytest", "smoke")
    assert workflow_recording.mode == os.environ.get("MODE", "auto")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\ntrio_mode = true\n")
    pytester.makepyfile(test_greeting=TEST_FILE)
    return pytester


def run(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, reply: str, expect: str, *args: str
) -> pytest.RunResult:
    monkeypatch.setenv("REPLY", reply)
    monkeypatch.setenv("EXPECT", expect)
    return project.runpytest("-p", "no:cacheprovider", *args)


def test_auto_records_once_then_replays(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In auto mode the first run records a JSONL fixture under tests/fixtures/recordings,
    later runs replay it (a changed harness is never called), and ``record`` re-records."""
    monkeypatch.delenv("OPENHARNESS_RECORDING_MODE", raising=False)
    run(project, monkeypatch, "first", "first").assert_outcomes(passed=2)
    fixture = (
        project.path / "tests" / "fixtures" / "recordings" / "test_greeting.test_greeting.jsonl"
    )
    assert fixture.is_file()
    run(project, monkeypatch, "second", "first").assert_outcomes(passed=2)
    monkeypatch.setenv("MODE", "record")
    run(project, monkeypatch, "third", "third", "--recording-mode=record").assert_outcomes(passed=2)
    monkeypatch.delenv("MODE")
    run(project, monkeypatch, "fourth", "third").assert_outcomes(passed=2)


def test_replay_mode_makes_a_missing_fixture_an_error(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``--recording-mode=replay`` (or the environment variable) a missing fixture
    fails the test instead of recording it."""
    monkeypatch.setenv("MODE", "replay")
    result = run(project, monkeypatch, "x", "x", "--recording-mode=replay")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*StoreError: cannot replay: no recording with id 'test_greeting.test_greeting'*"]
    )
    monkeypatch.setenv("OPENHARNESS_RECORDING_MODE", "replay")
    run(project, monkeypatch, "x", "x").assert_outcomes(passed=1, failed=1)


def test_recordings_directory_is_configurable(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``openharness_recordings`` ini option moves the fixture directory."""
    project.makeini("[pytest]\ntrio_mode = true\nopenharness_recordings = cassettes\n")
    monkeypatch.delenv("OPENHARNESS_RECORDING_MODE", raising=False)
    run(project, monkeypatch, "a", "a").assert_outcomes(passed=2)
    assert (project.path / "cassettes" / "test_greeting.test_greeting.jsonl").is_file()


@pytest.mark.parametrize(
    ("nodeid", "expected"),
    [
        ("tests/test_x.py::test_y", "test_x.test_y"),
        ("tests/test_x.py::TestZ::test_y[a b/c]", "test_x.TestZ.test_y-a-b-c-"),
        ("test_x.py", "test_x"),
    ],
)
def test_recording_id_for(nodeid: str, expected: str) -> None:
    """Node ids become store-safe recording ids."""
    assert recording_id_for(nodeid) == expected


def test_long_recording_ids_are_shortened() -> None:
    """Ids longer than 128 characters are shortened with a hash and stay distinct."""
    first = recording_id_for("t.py::test_" + "a" * 200)
    second = recording_id_for("t.py::test_" + "a" * 199 + "b")
    assert len(first) == 128
    assert first != second
