"""Batch runs on a real 3-node Ray cluster (``ray.cluster_utils.Cluster``: a head and two more
raylets on this machine, one CPU each, started once for the module): cases spread over the
nodes, cluster-wide call limits, and a node removed mid-batch."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import attrs
import pytest
import structlog
import trio

from openharness_actors import (
    HarnessRequest,
    Journal,
    ScriptedHarness,
    SqliteSignalStore,
    create_workflow,
    run_batch,
)
from openharness_actors.batch import RayOptions
from openharness_actors.batch.ray._bridge import await_ref
from openharness_actors.harness.limits import CallLimits

ray = pytest.importorskip("ray")

from .ray_helpers import connect_local_ray, set_ray_worker_env  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def ray_nodes() -> Iterator[Any]:
    """A head node and two worker nodes, one CPU each; the session's local cluster (if it
    was up) is disconnected meanwhile and restarted after."""
    from ray.cluster_utils import Cluster

    was_connected = ray.is_initialized()
    if was_connected:
        ray.shutdown()
    with pytest.MonkeyPatch.context() as patch:
        set_ray_worker_env(patch)
        cluster = Cluster(
            initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
        )
        nodes = [cluster.add_node(num_cpus=1) for _ in range(2)]
        ray.init(address=cluster.address, log_to_driver=False)
        cluster.wait_for_nodes()
    assert cluster.head_node is not None  # initialize_head=True
    try:
        yield SimpleNamespace(cluster=cluster, head=cluster.head_node.node_id, nodes=nodes)
    finally:
        ray.shutdown()
        cluster.shutdown()
        if was_connected:
            connect_local_ray(ray)


class Meter:
    """A Ray actor on the head node: calls per step and node, calls in flight, the most at
    once, and the first call caught to be stranded (see ``strand_one``)."""

    def __init__(self) -> None:
        self.now = self.most = 0
        self.nodes: defaultdict[str, list[str]] = defaultdict(list)
        self.caught: tuple[str, str] | None = None
        self._caught = asyncio.Event()

    def enter(self, call: str, node: str) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        self.nodes[call].append(node)

    def leave(self) -> None:
        self.now -= 1

    def catch(self, call: str, node: str, keep: list[str]) -> bool:
        """True for the first call made on a node not in ``keep``: that one is stranded."""
        if self.caught is not None or node in keep:
            return False
        self.caught = (call, node)
        self._caught.set()
        return True

    async def wait_caught(self) -> tuple[str, str]:
        await self._caught.wait()
        assert self.caught is not None
        return self.caught

    def report(self) -> tuple[int, int, dict[str, list[str]]]:
        return self.most, self.now, dict(self.nodes)


def meter_on(head: str) -> Any:
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    strategy = NodeAffinitySchedulingStrategy(node_id=head, soft=False)
    return ray.remote(num_cpus=0)(Meter).options(scheduling_strategy=strategy).remote()


def metered(
    meter: Any, hold: float, strand_on: str | None = None, keep: list[str] | None = None
) -> Any:
    """A harness reply counting each call at ``meter``; with ``strand_on`` (an agent), the
    first such call made on a node not in ``keep`` never returns (its node is about to go)."""

    async def reply(request: HarnessRequest) -> str:
        call = f"{request.agent}:{request.prompt.split()[-1]}"
        node = ray.get_runtime_context().get_node_id()
        await await_ref(meter.enter.remote(call, node))
        if request.agent == strand_on and await await_ref(meter.catch.remote(call, node, keep)):
            await trio.sleep_forever()
        await trio.sleep(hold)
        await await_ref(meter.leave.remote())
        return f"<{request.prompt}>"

    return reply


@attrs.frozen
class Case:
    id: int
    topic: str
    outline: str | None = None
    draft: str | None = None


wf = create_workflow(Case)
agents = {
    "outline": wf.agent(
        prompt="Outline {{ topic }}",
        activate_on=["workflow:start"],
        updates="outline",
        emits=["outlined"],
    ),
    "draft": wf.agent(prompt="Draft {{ topic }}", activate_on=["outlined"], updates="draft"),
}


def inputs(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "topic": f"t{i}"} for i in range(n)]


async def test_cases_spread_over_the_nodes(ray_nodes: Any) -> None:
    """3 workers land on the 3 nodes (one each) and every node runs cases."""
    meter = meter_on(ray_nodes.head)
    batch = await run_batch(
        wf,
        inputs(30),
        agents=agents,
        harness=ScriptedHarness(default=metered(meter, hold=0.005)),
        concurrency=12,
        ray=RayOptions(workers=3, chunk_size=2),
    )
    assert batch.metrics.succeeded == 30
    _, now, nodes = await await_ref(meter.report.remote())
    every_node = {ray_nodes.head} | {node.node_id for node in ray_nodes.nodes}
    assert {node for seen in nodes.values() for node in seen} == every_node
    assert sum(len(seen) for seen in nodes.values()) == 60 and now == 0


async def test_call_limits_hold_across_nodes(ray_nodes: Any) -> None:
    """limits=CallLimits(concurrency=2): at most 2 calls at once over 3 nodes, and reached."""
    meter = meter_on(ray_nodes.head)
    batch = await run_batch(
        wf,
        inputs(24),
        agents=agents,
        harness=ScriptedHarness(default=metered(meter, hold=0.02)),
        concurrency=24,
        limits=CallLimits(concurrency=2),
        ray=RayOptions(workers=3, chunk_size=4),
    )
    assert batch.metrics.succeeded == 24
    most, now, nodes = await await_ref(meter.report.remote())
    assert most == 2 and now == 0
    assert len({node for seen in nodes.values() for node in seen}) == 3


async def test_a_removed_node_cases_rerun_elsewhere_once_and_journals_resume(
    ray_nodes: Any, tmp_path: Path
) -> None:
    """A node removed while one of its cases is in its second call: the node's unfinished
    cases run again on the other nodes, every case is committed exactly once, the incident
    names the node, and the stranded case resumes from its journal (its first call is not
    made again)."""
    meter = meter_on(ray_nodes.head)
    # the driver's node keeps the batch's ledger: with every raylet on one IP address, the
    # driver may have attached to a non-head node, which then must not be the one removed
    keep = [ray_nodes.head, ray.get_runtime_context().get_node_id()]
    results = tmp_path / "results.jsonl"
    removed: list[str] = []

    async def remove_the_stranded_node() -> None:
        _, node_id = await await_ref(meter.wait_caught.remote())
        [node] = [n for n in ray_nodes.nodes if n.node_id == node_id]
        await trio.to_thread.run_sync(ray_nodes.cluster.remove_node, node)
        removed.append(node_id)

    with structlog.testing.capture_logs() as logs:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(remove_the_stranded_node)
            batch = await run_batch(
                wf,
                inputs(24),
                agents=agents,
                harness=ScriptedHarness(default=metered(meter, 0.01, strand_on="draft", keep=keep)),
                journal=Journal(SqliteSignalStore(tmp_path / "journal.db")),
                results_path=results,
                concurrency=9,
                ray=RayOptions(workers=3, chunk_size=3, max_worker_restarts=0),
            )
    assert batch.metrics.succeeded == 24
    [node_id] = removed
    [incident] = batch.incidents
    assert incident.node == node_id
    assert incident.retried and set(incident.retried) | set(incident.committed) == set(
        incident.in_flight
    )
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(int(line["case_id"]) for line in lines) == list(range(24))  # once each
    [done] = [e for e in logs if e["event"] == "batch on ray done"]
    assert done["accepted"] == 24 and done["lost"] == 1
    _, _, nodes = await await_ref(meter.report.remote())
    stranded, _ = await await_ref(meter.wait_caught.remote())
    case = stranded.split(":")[1]
    assert len(nodes[f"outline:{case}"]) == 1  # answered from the journal on the retry
    first, again = nodes[stranded]
    assert first == node_id and again != node_id
    assert batch.results[int(case[1:])].state["draft"] == f"<Draft {case}>"
