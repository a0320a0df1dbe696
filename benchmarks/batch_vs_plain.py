"""Batch vs plain: N eval cases through ``run_batch`` on AnthropicBatchHarness and on
AnthropicHarness, against the fake Messages API with latency; cost and wall time of each.

The fake server (in this process) waits ``--latency`` seconds before answering each HTTP
request, and ends a Message Batch ``--processing`` seconds after it was created (a real batch
takes minutes to hours; the fake's figure only has to be larger than one call's latency).
Both sides run the same cases (one agent, one model call each, the same prompts, so the same
usage) with ``concurrency=--concurrency`` cases at once; the plain harness keeps its default
32 requests in flight. The script verifies every answer landed, that the batch side made no
plain Messages call, and that its cost is exactly half of the plain side's.

Prints one JSON line per side, then a table.

    python benchmarks/batch_vs_plain.py            # N=1000, 200 ms latency, 10 s processing
    python benchmarks/batch_vs_plain.py --smoke    # tiny; timings mean nothing
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import attrs
import trio

from openharness_actors import AnthropicBatchHarness, AnthropicHarness, create_workflow, run_batch
from openharness_actors.testing.fake_anthropic import (
    FakeAnthropic,
    FakeReply,
    RecordedRequest,
    open_fake_anthropic,
    text_reply,
)

KEY = "sk-ant-benchmark"
MODEL = "claude-sonnet-4-5"


@attrs.frozen
class Case:
    id: int
    question: str
    answer: str | None = None


wf = create_workflow(Case)
grader = wf.agent(
    prompt="Answer briefly: {{ question }}",
    system="You grade short answers. Reply with one sentence.",
    activate_on=["workflow:start"],
    updates="answer",
)


def reply(request: RecordedRequest) -> FakeReply:
    return text_reply(f"The answer to '{request.last_user_text}' is 42.")


async def side(
    name: str, server: FakeAnthropic, harness: Any, cases: int, concurrency: int
) -> dict[str, Any]:
    inputs = [{"id": n, "question": f"question number {n}"} for n in range(cases)]
    before_plain = sum(1 for r in server.requests if r.path == "/v1/messages")
    before_batches = server.batches.created
    started = time.perf_counter()
    async with harness:
        result = await run_batch(
            wf, inputs, concurrency=concurrency, agents={"grader": grader}, harness=harness
        )
    wall = time.perf_counter() - started
    assert result.metrics.failed == 0, result.failures[:3]
    for case in result.results:
        assert case.state["answer"].startswith("The answer to"), case
    return {
        "case": name,
        "cases": cases,
        "wall_s": round(wall, 3),
        "cost_usd": result.metrics.cost_usd,
        "input_tokens": result.metrics.usage.input_tokens,
        "output_tokens": result.metrics.usage.output_tokens,
        "plain_calls": sum(1 for r in server.requests if r.path == "/v1/messages") - before_plain,
        "batches": server.batches.created - before_batches,
    }


async def main(args: argparse.Namespace) -> list[dict[str, Any]]:
    async with open_fake_anthropic(reply, latency=args.latency) as server:
        server.batches.processing_time = args.processing
        common: dict[str, Any] = {"api_key": KEY, "base_url": server.base_url}
        batch = AnthropicBatchHarness(
            MODEL, max_wait=args.max_wait, poll_interval=args.poll_interval, **common
        )
        batched = await side("batch", server, batch, args.cases, args.concurrency)
        plain = await side(
            "plain", server, AnthropicHarness(MODEL, **common), args.cases, args.concurrency
        )
    assert batched["plain_calls"] == 0
    assert plain["batches"] == 0
    assert (batched["input_tokens"], batched["output_tokens"]) == (
        plain["input_tokens"],
        plain["output_tokens"],
    )
    assert batched["cost_usd"] == plain["cost_usd"] / 2
    return [batched, plain]


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1000, help="cases at once")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per HTTP answer")
    parser.add_argument("--processing", type=float, default=10.0, help="seconds per batch")
    parser.add_argument("--max-wait", type=float, default=1.5, help="batch pooling window")
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for the test suite")
    args = parser.parse_args()
    if args.smoke:
        args.cases, args.concurrency, args.latency = 20, 20, 0.01
        args.processing, args.max_wait, args.poll_interval = 0.2, 0.05, 0.1
    rows = trio.run(main, args)
    for row in rows:
        print(json.dumps(row | {"smoke": args.smoke}))
    print()
    print(
        f"{'side':<6} {'cases':>6} {'wall s':>8} {'cost USD':>10} {'batches':>8} {'plain calls':>12}"
    )
    for row in rows:
        print(
            f"{row['case']:<6} {row['cases']:>6} {row['wall_s']:>8.2f} {row['cost_usd']:>10.5f} "
            f"{row['batches']:>8} {row['plain_calls']:>12}"
        )
    ratio = rows[0]["cost_usd"] / rows[1]["cost_usd"]
    print(f"batch/plain cost: {ratio:.3f}; wall: {rows[0]['wall_s'] / rows[1]['wall_s']:.2f}x")


if __name__ == "__main__":
    cli()
