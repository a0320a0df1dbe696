"""Batch runs: concurrency, per-case isolation, JSONL results, resume after a kill."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import attrs
import pytest
import trio
import trio.testing

from openharness_actors import (
    BatchProgress,
    HarnessRequest,
    ProgressPrinter,
    ScriptedHarness,
    StoreError,
    WorkflowDefinitionError,
    create_workflow,
    run_batch,
)

ROOT = Path(__file__).resolve().parent.parent


@attrs.frozen
class Case:
    id: int
    text: str
    answer: str | None = None


wf = create_workflow(Case)
solver = wf.agent(prompt="solve {{ text }}", activate_on=["workflow:start"], updates="answer")


def failing_every_20th(request: HarnessRequest) -> str:
    number = int(request.prompt.split()[-1])
    if number % 20 == 7:
        raise RuntimeError(f"injected failure {number}")
    return f"answer {number}"


async def test_thousand_cases_with_injected_failures(tmp_path: Path) -> None:
    """1000 cases, 5% injected failures: exactly those fail, the rest complete, all in the file."""
    inputs = [{"id": i, "text": str(i)} for i in range(1000)]
    results_path = tmp_path / "results.jsonl"
    batch = await run_batch(
        wf,
        inputs,
        agents={"solver": solver},
        harness=ScriptedHarness(default=failing_every_20th),
        concurrency=50,
        results_path=results_path,
    )
    expected_failures = {str(i) for i in range(1000) if i % 20 == 7}
    assert {r.case_id for r in batch.failures} == expected_failures
    assert batch.metrics.failed == 50 and batch.metrics.cases == 1000
    assert batch.metrics.failure_rate == pytest.approx(0.05)
    assert all("injected failure" in (r.error or "") for r in batch.failures)
    assert [r.case_id for r in batch.results] == [str(i) for i in range(1000)]
    ok = batch.results[0]
    assert ok.state == {"id": 0, "text": "0", "answer": "answer 0"} and ok.status == "completed"
    lines = [json.loads(line) for line in results_path.read_text().splitlines()]
    assert sorted(line["case_id"] for line in lines) == sorted(str(i) for i in range(1000))
    assert set(batch.metrics.latency_ms) == {"p50", "p90", "p99", "max", "mean"}
    assert batch.metrics.usage.output_tokens > 0


async def test_concurrency_limit_is_respected(autojump_clock: trio.testing.MockClock) -> None:
    """No more than `concurrency` cases run at once."""
    running = 0
    peak = 0

    async def slow(request: HarnessRequest) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await trio.sleep(1)
        running -= 1
        return "ok"

    batch = await run_batch(
        wf,
        ({"id": i, "text": "t"} for i in range(30)),  # a lazy iterable
        agents={"solver": solver},
        harness=ScriptedHarness(default=slow),
        concurrency=4,
    )
    assert peak == 4
    assert batch.metrics.cases == 30 and batch.metrics.failed == 0


async def test_resume_skips_finished_cases(tmp_path: Path) -> None:
    """Running the same batch again with its results file runs only what is missing."""
    results_path = tmp_path / "r.jsonl"
    inputs = [{"id": i, "text": str(i)} for i in range(20)]
    first = ScriptedHarness(default="x")
    await run_batch(
        wf, inputs[:12], agents={"solver": solver}, harness=first, results_path=results_path
    )
    second = ScriptedHarness(default="y")
    batch = await run_batch(
        wf, inputs, agents={"solver": solver}, harness=second, results_path=results_path
    )
    assert second.count() == 8
    assert batch.metrics.ran == 8 and batch.metrics.cases == 20
    assert sum(r.resumed for r in batch.results) == 12
    assert len(results_path.read_text().splitlines()) == 20


async def test_retry_failed_on_resume(tmp_path: Path) -> None:
    """retry_failed=True runs previously failed cases again."""
    results_path = tmp_path / "r.jsonl"
    inputs = [{"id": i, "text": str(i)} for i in range(40)]
    await run_batch(
        wf,
        inputs,
        agents={"solver": solver},
        harness=ScriptedHarness(default=failing_every_20th),
        results_path=results_path,
    )
    fixed = ScriptedHarness(default="fixed")
    batch = await run_batch(
        wf,
        inputs,
        agents={"solver": solver},
        harness=fixed,
        results_path=results_path,
        retry_failed=True,
    )
    assert fixed.count() == 2
    assert batch.metrics.failed == 0


async def test_jsonl_inputs_and_torn_results_line(tmp_path: Path) -> None:
    """Inputs may be a JSONL file; a torn last results line is dropped and its case rerun."""
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"id": i, "text": str(i)}) + "\n" for i in range(5)))
    results_path = tmp_path / "r.jsonl"
    await run_batch(
        wf,
        inputs,
        agents={"solver": solver},
        harness=ScriptedHarness(default="a"),
        results_path=results_path,
    )
    lines = results_path.read_text().splitlines()
    torn = "\n".join(lines[:4]) + "\n" + lines[4][: len(lines[4]) // 2]
    results_path.write_text(torn)
    again = ScriptedHarness(default="b")
    batch = await run_batch(
        wf, inputs, agents={"solver": solver}, harness=again, results_path=results_path
    )
    assert again.count() == 1
    ids = [json.loads(line)["case_id"] for line in results_path.read_text().splitlines()]
    assert ids == ["0", "1", "2", "3", "4"]
    assert batch.metrics.cases == 5


async def test_corrupt_results_line_is_a_store_error(tmp_path: Path) -> None:
    """A corrupt line in the middle of a results file raises StoreError naming file and line."""
    results_path = tmp_path / "r.jsonl"
    results_path.write_text('{"nope": 1}\n{"also": 2}\n')
    with pytest.raises(StoreError, match=r"r\.jsonl:1"):
        await run_batch(
            wf,
            [{"id": 1, "text": "t"}],
            agents={"solver": solver},
            harness=ScriptedHarness(default="a"),
            results_path=results_path,
        )


async def test_invalid_workflow_stops_the_batch() -> None:
    """A definition error is not a per-case failure: the batch raises it."""
    with pytest.raises(WorkflowDefinitionError, match="no harness"):
        await run_batch(wf, [{"id": i, "text": "t"} for i in range(10)], agents={"solver": solver})


async def test_bad_case_input_is_a_case_failure() -> None:
    """An input that cannot become a state fails that case only."""
    batch = await run_batch(
        wf,
        [{"id": 1, "text": "ok"}, {"id": 2}, {"id": 3, "text": "ok"}],
        agents={"solver": solver},
        harness=ScriptedHarness(default="a"),
    )
    assert [r.ok for r in batch.results] == [True, False, True]
    assert "building the state" in (batch.results[1].error or "")


def test_progress_printer_plain_stream() -> None:
    """Off a terminal, the printer writes whole lines, always the final one."""
    out = io.StringIO()
    printer = ProgressPrinter(out, every=3600)
    printer(BatchProgress(done=1, failed=0, running=2, total=3, elapsed=1.0, resumed=0))
    printer(BatchProgress(done=2, failed=0, running=1, total=3, elapsed=2.0, resumed=0))
    printer(BatchProgress(done=3, failed=1, running=0, total=3, elapsed=3.0, resumed=0))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("batch: 1/3 done")
    assert lines[-1].startswith("batch: 3/3 done, 1 failed")
    assert len(lines) == 2


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, attrs, trio
    from openharness_actors import ScriptedHarness, create_workflow, run_batch

    @attrs.frozen
    class Case:
        id: int
        text: str
        answer: str | None = None

    wf = create_workflow(Case)
    solver = wf.agent(prompt="solve {{ text }}", activate_on=["workflow:start"], updates="answer")
    calls = open(sys.argv[2], "a")

    async def reply(request):
        calls.write(request.prompt + "\\n"); calls.flush()
        await trio.sleep(0.01)
        return "done " + request.prompt

    trio.run(lambda: run_batch(wf, [{"id": i, "text": str(i)} for i in range(300)],
                               agents={"solver": solver}, harness=ScriptedHarness(default=reply),
                               concurrency=4, results_path=sys.argv[1]))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_batch_killed_halfway_resumes_without_redoing(tmp_path: Path) -> None:
    """SIGKILL a batch process mid-way; resuming runs exactly the cases without a result."""
    script = tmp_path / "batch.py"
    script.write_text(KILL_SCRIPT)
    results_path = tmp_path / "results.jsonl"
    calls_path = tmp_path / "calls.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(results_path), str(calls_path)], env=env
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if results_path.exists() and results_path.read_text().count("\n") >= 100:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished_before = {
        json.loads(line)["case_id"]
        for line in results_path.read_text().splitlines()
        if line.endswith("}")
    }
    assert 100 <= len(finished_before) < 300

    resumed = ScriptedHarness(default=lambda r: "done " + r.prompt)
    batch = trio.run(
        lambda: run_batch(
            wf,
            [{"id": i, "text": str(i)} for i in range(300)],
            agents={"solver": solver},
            harness=resumed,
            concurrency=8,
            results_path=results_path,
        )
    )
    rerun = {r.prompt.split()[-1] for r in resumed.calls}
    assert rerun.isdisjoint(finished_before)
    assert len(rerun) == resumed.count() == 300 - len(finished_before)
    ids = [json.loads(line)["case_id"] for line in results_path.read_text().splitlines()]
    assert sorted(ids, key=int) == [str(i) for i in range(300)]  # each case exactly once
    assert batch.metrics.failed == 0
    assert all(r.state["answer"] == f"done solve {r.case_id}" for r in batch.results)


async def test_bad_input_line_is_a_plain_store_error(tmp_path: Path) -> None:
    """A malformed JSONL input line raises StoreError itself, not wrapped in a group."""
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('{"id": 1, "text": "a"}\nnot json\n')
    with pytest.raises(StoreError, match=r"in\.jsonl:2"):
        await run_batch(wf, inputs, agents={"solver": solver}, harness=ScriptedHarness(default="a"))


def test_progress_printer_prints_the_final_line_once() -> None:
    """Reporting the same finished figures twice prints one final line."""
    out = io.StringIO()
    printer = ProgressPrinter(out, every=3600)
    for _ in range(2):
        printer(BatchProgress(done=3, failed=0, running=0, total=3, elapsed=1.0, resumed=0))
    assert len(out.getvalue().splitlines()) == 1
