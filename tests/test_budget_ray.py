"""A batch budget on Ray: the driver charges finished cases and stops handing cases out."""

from __future__ import annotations

from typing import Any

import pytest

from openharness_actors import (
    Budget,
    BudgetExceededError,
    ScriptedHarness,
    create_workflow,
    run_batch,
)
from openharness_actors.batch import RayOptions
from openharness_actors.batch._results import BatchResult

pytest.importorskip("ray")
pytestmark = pytest.mark.timeout(90)

wf = create_workflow(dict)
solo = wf.agent(prompt="go {{ n }}", activate_on=["workflow:start"], updates="out")


async def test_ray_batch_budget_stops_handing_out_cases(ray_cluster: Any) -> None:
    """With ray=, a 10-token budget stops the batch well before its 60 cases; the cases that
    ran are charged, and the overshoot is bounded by the cases in flight."""
    with pytest.raises(BudgetExceededError) as caught:
        await run_batch_on_ray()
    partial = caught.value.partial
    assert isinstance(partial, BatchResult)
    ran = len(partial.results)
    assert 10 <= ran <= 10 + 4
    assert caught.value.spent.output_tokens == ran  # one output token per case
    assert list(caught.value.by_agent) == ["*"]


async def run_batch_on_ray() -> BatchResult:
    return await run_batch(
        wf,
        [{"n": n, "out": None} for n in range(60)],
        agents={"solo": solo},
        harness=ScriptedHarness(default="abcd"),
        concurrency=4,
        ray=RayOptions(workers=1, chunk_size=1),
        budget=Budget(output_tokens=10),
    )
