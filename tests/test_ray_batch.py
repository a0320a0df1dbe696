"""Batch runs on a local Ray cluster (2 CPUs, started once per session): same results as the
local runner, cluster-wide call limits, lost workers, resume, keys from the workers' env,
recordings and journals the driver reads, warm worker pools, quiet logging."""

from __future__ import annotations

import io
import json
import os
import signal
from collections import Counter as Tally
from pathlib import Path
from typing import Any

import attrs
import pytest
import structlog
import trio

from openharness_actors import (
    AnthropicHarness,
    HarnessRequest,
    Journal,
    MemorySignalStore,
    ProgressPrinter,
    Recording,
    ScriptedHarness,
    SqliteSignalStore,
    WorkflowDefinitionError,
    create_workflow,
    run_batch,
)
from openharness_actors.batch import RayOptions, open_ray_pool
from openharness_actors.batch.ray._bridge import await_ref
from openharness_actors.harness.limits import CallLimits
from openharness_actors.testing.fake_anthropic import open_fake_anthropic, text_reply

ray = pytest.importorskip("ray")

pytestmark = [pytest.mark.ray, pytest.mark.timeout(90)]


@attrs.frozen
class Case:
    id: int
    text: str
    answer: str | None = None


wf = create_workflow(Case)
solver = wf.agent(prompt="solve {{ text }}", activate_on=["workflow:start"], updates="answer")


def inputs(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "text": str(i)} for i in range(n)]


class Meter:
    """A Ray actor (in the tests) counting calls in flight, the most at once, and per case."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.pids: set[int] = set()
        self.calls: Tally[str] = Tally()

    def enter(self, pid: int, case: str) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        self.pids.add(pid)
        self.calls[case] += 1

    def leave(self) -> None:
        self.now -= 1

    def report(self) -> tuple[int, int, set[int], dict[str, int]]:
        return self.most, self.now, self.pids, dict(self.calls)


def metered_reply(meter: Any, hold: float, kill_on: str | None = None, marker: str = "") -> Any:
    async def reply(request: HarnessRequest) -> str:
        case = request.prompt.split()[-1]
        await await_ref(meter.enter.remote(os.getpid(), case))
        if case == kill_on:
            try:  # only the first worker to get here dies
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        await trio.sleep(hold)
        await await_ref(meter.leave.remote())
        return f"answer {case}"

    return reply


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def comparable(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k not in ("duration_ms", "run_id")}


async def test_200_cases_match_the_local_runner(ray_cluster: Any, tmp_path: Path) -> None:
    """200 cases on 2 Ray workers give the local runner's results, file and progress line."""
    harness = ScriptedHarness(default=lambda r: r.prompt.upper(), chunk_size=3)
    streams = {"local": io.StringIO(), "ray": io.StringIO()}
    batches = {}
    for where, ray_option in [("local", None), ("ray", RayOptions(workers=2, chunk_size=8))]:
        batches[where] = await run_batch(
            wf,
            inputs(200),
            agents={"solver": solver},
            harness=harness,
            concurrency=32,
            results_path=tmp_path / f"{where}.jsonl",
            progress=ProgressPrinter(streams[where], every=0),
            ray=ray_option,
        )
    local, remote = batches["local"], batches["ray"]
    assert remote.metrics.succeeded == remote.metrics.cases == remote.metrics.ran == 200
    assert remote.incidents == ()
    assert [attrs.evolve(r, duration_ms=0, run_id=None) for r in remote.results] == [
        attrs.evolve(r, duration_ms=0, run_id=None) for r in local.results
    ]
    assert remote.results[7].state == {"id": 7, "text": "7", "answer": "SOLVE 7"}
    by_id = {line["case_id"]: comparable(line) for line in lines(tmp_path / "local.jsonl")}
    remote_lines = lines(tmp_path / "ray.jsonl")
    assert len(remote_lines) == 200
    assert {line["case_id"]: comparable(line) for line in remote_lines} == by_id
    last = streams["ray"].getvalue().splitlines()[-1]
    assert last.startswith("batch: 200/200 done, 0 failed, 0 running, ")
    assert streams["local"].getvalue().splitlines()[-1].startswith(last[:40])


async def test_concurrency_limit_holds_across_workers(ray_cluster: Any) -> None:
    """limits=CallLimits(concurrency=3) allows 3 calls at once across 2 busy workers."""
    meter = ray.remote(num_cpus=0)(Meter).remote()
    batch = await run_batch(
        wf,
        inputs(60),
        agents={"solver": solver},
        harness=ScriptedHarness(default=metered_reply(meter, hold=0.02)),
        concurrency=40,
        limits=CallLimits(concurrency=3),
        ray=RayOptions(workers=2, chunk_size=10),
    )
    most, now, pids, calls = await await_ref(meter.report.remote())
    assert batch.metrics.succeeded == 60
    assert most == 3  # never more, and the demand reached it
    assert now == 0
    assert len(pids) == 2
    assert sum(calls.values()) == 60


async def test_killed_worker_cases_retried_elsewhere_once(ray_cluster: Any, tmp_path: Path) -> None:
    """A worker killed mid-batch: its unfinished cases rerun on another worker, none twice."""
    meter = ray.remote(num_cpus=0)(Meter).remote()
    reply = metered_reply(meter, 0.01, kill_on="60", marker=str(tmp_path / "killed"))
    with structlog.testing.capture_logs() as logs:
        batch = await run_batch(
            wf,
            inputs(200),
            agents={"solver": solver},
            harness=ScriptedHarness(default=reply),
            concurrency=24,
            results_path=tmp_path / "results.jsonl",
            ray=RayOptions(workers=2, chunk_size=4),
        )
    assert batch.metrics.succeeded == 200
    [incident] = batch.incidents
    assert "60" in incident.in_flight
    assert set(incident.retried) | set(incident.committed) == set(incident.in_flight)
    assert batch.affected_cases == sorted(incident.in_flight)
    assert incident.abandoned == ()
    saved = lines(tmp_path / "results.jsonl")
    assert sorted(int(line["case_id"]) for line in saved) == list(range(200))
    _, _, _, calls = await await_ref(meter.report.remote())
    for case in map(str, range(200)):  # a retried case may not have reached its call before
        assert calls[case] in ((1, 2) if case in incident.retried else (1,)), case
    assert calls["60"] == 2
    [done] = [e for e in logs if e["event"] == "batch on ray done"]
    assert done["accepted"] == 200 and done["refused"] == 0 and done["lost"] == 1


async def test_interrupted_batch_resumes_without_redoing(ray_cluster: Any, tmp_path: Path) -> None:
    """A batch cancelled on the cluster after 50 results resumes with only the rest."""
    path = tmp_path / "results.jsonl"
    options: dict[str, Any] = {
        "agents": {"solver": solver},
        "harness": ScriptedHarness(default="ok", delay=0.005),
        "concurrency": 8,
        "results_path": path,
        "ray": RayOptions(workers=2, chunk_size=4),
    }
    with trio.CancelScope() as scope:

        def stop_at_50(progress: Any) -> None:
            if progress.done >= 50:
                scope.cancel()

        await run_batch(wf, inputs(120), progress=stop_at_50, **options)
    first = len(lines(path))
    assert 50 <= first < 120
    batch = await run_batch(wf, inputs(120), **options)
    assert batch.metrics.ran == 120 - first
    assert sum(r.resumed for r in batch.results) == first
    assert sorted(int(line["case_id"]) for line in lines(path)) == list(range(120))


class KeyedHarness(ScriptedHarness):
    """A harness holding a key, as a model harness would."""

    def __init__(self, api_key: str) -> None:
        super().__init__(default=self.answer)
        self.api_key: str | None = api_key

    def answer(self, request: HarnessRequest) -> str:
        key = self.api_key or os.environ.get("OPENHARNESS_TEST_API_KEY", "")
        return f"shipped={self.api_key is not None} key_suffix={key[-4:]}"


async def test_keys_stay_home_and_come_from_the_workers_env(ray_cluster: Any) -> None:
    """A harness's api_key is not shipped: the worker's copy reads the worker's environment."""
    batch = await run_batch(
        wf,
        inputs(4),
        agents={"solver": solver},
        harness=KeyedHarness(api_key="driver-side-key-9999"),
        ray=RayOptions(workers=1),
    )
    assert {r.state["answer"] for r in batch.results} == {
        f"shipped=False key_suffix={ray_cluster.worker_key[-4:]}"
    }


async def test_invalid_workflow_stops_a_ray_batch(ray_cluster: Any) -> None:
    """A workflow that cannot run raises WorkflowDefinitionError on the driver."""
    with pytest.raises(WorkflowDefinitionError):
        await run_batch(wf, inputs(10), agents={"solver": solver}, ray=RayOptions(workers=1))


@attrs.frozen
class Job:
    id: int
    topic: str
    outline: str | None = None
    draft: str | None = None


jobs_wf = create_workflow(Job)
job_agents = {
    "outline": jobs_wf.agent(
        prompt="Outline {{ topic }}",
        activate_on=["workflow:start"],
        updates="outline",
        emits=["outlined"],
    ),
    "draft": jobs_wf.agent(
        prompt="Draft from {{ outline }}", activate_on=["outlined"], updates="draft"
    ),
}


def jobs(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "topic": f"topic-{i}"} for i in range(n)]


async def test_recordings_made_on_workers_are_read_by_the_driver(
    ray_cluster: Any, tmp_path: Path
) -> None:
    """Workers record each case into the shared SQLite store; the driver lists them and
    replays one with no harness."""
    store = SqliteSignalStore(tmp_path / "recordings.db")
    batch = await run_batch(
        jobs_wf,
        jobs(20),
        agents=job_agents,
        harness=ScriptedHarness(default=lambda r: f"<{r.prompt}>"),
        recording=Recording(mode="record", store=store, tags=["ray"]),
        ray=RayOptions(workers=2, chunk_size=5),
    )
    assert batch.metrics.succeeded == 20
    listed = await store.list(tags=["ray"], limit=100)
    assert {info.id for info in listed} == {r.recording_id for r in batch.results}
    case = batch.results[11]
    assert case.recording_id is not None
    replayed = await jobs_wf.run_reactive(
        agents=job_agents,
        state=Job(11, "topic-11"),
        recording=Recording(mode="replay", store=store, recording_id=case.recording_id),
    )
    assert attrs.asdict(replayed.state) == case.state


async def test_memory_store_is_refused_on_ray(ray_cluster: Any) -> None:
    """A MemorySignalStore would keep recordings in the workers: refused before any case."""
    with pytest.raises(WorkflowDefinitionError, match="MemorySignalStore"):
        await run_batch(
            jobs_wf,
            jobs(2),
            agents=job_agents,
            harness=ScriptedHarness(default="x"),
            recording=Recording(mode="record", store=MemorySignalStore()),
            ray=True,
        )


async def test_journaled_case_of_a_killed_worker_resumes_elsewhere(
    ray_cluster: Any, tmp_path: Path
) -> None:
    """With journal=, a case whose worker dies during its second call resumes on another
    worker from its journal: its completed first call is not made again."""
    meter = ray.remote(num_cpus=0)(Meter).remote()
    marker = str(tmp_path / "killed")

    async def reply(request: HarnessRequest) -> str:
        step, case = request.agent, request.prompt.split("topic-")[-1].rstrip(">")
        await await_ref(meter.enter.remote(os.getpid(), f"{step}:{case}"))
        if (step, case) == ("draft", "7"):
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        await await_ref(meter.leave.remote())
        return f"<{request.prompt}>"

    batch = await run_batch(
        jobs_wf,
        jobs(16),
        agents=job_agents,
        harness=ScriptedHarness(default=reply),
        journal=Journal(SqliteSignalStore(tmp_path / "journal.db")),
        concurrency=8,
        ray=RayOptions(workers=2, chunk_size=2),
    )
    assert batch.metrics.succeeded == 16
    [incident] = batch.incidents
    assert "7" in incident.retried
    _, _, _, calls = await await_ref(meter.report.remote())
    assert calls["outline:7"] == 1  # answered from the journal on the retry
    assert calls["draft:7"] == 2
    assert batch.results[7].state["draft"] == "<Draft from <Outline topic-7>>"


async def test_anthropic_harness_on_workers_global_limit_and_worker_key(
    ray_cluster: Any,
) -> None:
    """AnthropicHarness travels to 2 workers, calls the (fake) API with the workers' own key,
    and limits=CallLimits(concurrency=3) caps the requests of both at 3 at once."""
    async with open_fake_anthropic(text_reply("ok"), latency=0.05) as server:
        batch = await run_batch(
            wf,
            inputs(30),
            agents={"solver": solver},
            harness=AnthropicHarness(base_url=server.base_url, max_concurrency=32),
            concurrency=30,
            limits=CallLimits(concurrency=3),
            ray=RayOptions(workers=2, chunk_size=5),
        )
        figures = server.statistics()
        keys = {request.api_key for request in server.requests}
    assert batch.metrics.succeeded == 30, batch.failures[:1]
    assert figures.requests == 30
    assert figures.peak_in_flight == 3
    assert keys == {ray_cluster.worker_key}


async def test_a_warm_pool_serves_several_batches_with_the_same_workers(ray_cluster: Any) -> None:
    """open_ray_pool starts 2 workers once; three batches on it run on those same processes."""
    meter = ray.remote(num_cpus=0)(Meter).remote()
    harness = ScriptedHarness(default=metered_reply(meter, hold=0.01))
    async with open_ray_pool(RayOptions(workers=2, chunk_size=4)) as pool:
        started = pool.statistics()
        assert (started.workers, started.started, started.batches) == (2, 2, 0)
        pids = {worker.pid for worker in pool.workers}
        results = [
            await run_batch(
                wf, inputs(24), agents={"solver": solver}, harness=harness, ray=pool, concurrency=8
            )
            for _ in range(3)
        ]
        figures = pool.statistics()
    assert [batch.metrics.succeeded for batch in results] == [24, 24, 24]
    assert (figures.workers, figures.started, figures.batches) == (2, 2, 3)
    _, now, seen, calls = await await_ref(meter.report.remote())
    assert seen == pids and len(pids) == 2  # both workers served, and no other process did
    assert now == 0 and sum(calls.values()) == 72


async def test_a_program_without_logging_gets_no_debug_lines(
    ray_cluster: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """With logging unconfigured, a Ray batch writes nothing to stdout: the backend logs only
    through the library's logger, which defers to ``logging`` (warnings and up)."""
    structlog.reset_defaults()
    assert not structlog.is_configured()
    batch = await run_batch(
        wf,
        inputs(6),
        agents={"solver": solver},
        harness=ScriptedHarness(default="ok"),
        ray=RayOptions(workers=1),
    )
    assert batch.metrics.succeeded == 6
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "batch on ray done" not in captured.err


async def test_open_ray_pool_refuses_bad_lanes_before_starting_anything() -> None:
    """lanes=0 is a ValueError naming the option, raised before any cluster is touched."""
    was_connected = ray.is_initialized()
    with pytest.raises(ValueError, match="lanes must be an integer >= 1, not 0"):
        async with open_ray_pool(RayOptions(workers=1), lanes=0):
            pass  # pragma: no cover
    assert ray.is_initialized() == was_connected
