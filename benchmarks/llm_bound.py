"""LLM-bound benchmark: many concurrent Claude calls against the fake Messages API.

N activations run at once against a fake server that waits ``--latency`` seconds before
answering each request (then streams a ~300-character reply). The server runs in its own
process so that the CPU figures are the client's alone. Cases, measured in the same run
with the same server, each after a warm-up round that opens the connections:

- ``sdk``: bare ``anthropic.AsyncAnthropic`` streaming calls (``messages.create(stream=True)``,
  every event read), N tasks at once: the floor.
- ``harness``: ``AnthropicHarness.run`` called directly, N tasks at once, events dropped.
- ``workflow``: one ``run_reactive`` run with N agents activated by ``workflow:start``, every
  event published as a signal, every reply committed to state.

Prints one JSON line per case, then a table. Wall time and CPU are for the whole round;
``cpu_per_call_ms`` is process CPU divided by N. ``--smoke`` runs a tiny configuration so that
a test keeps the script working; its timings mean nothing.

    python benchmarks/llm_bound.py            # N=200, 100 ms latency
    python benchmarks/llm_bound.py --smoke
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import anthropic
import trio

from openharness_actors import AnthropicHarness, create_workflow
from openharness_actors.harness import HarnessEvent, HarnessRequest

KEY = "sk-ant-benchmark"
MODEL = "claude-sonnet-5-5"
REPLY = (
    "The input reads as a short, friendly request; nothing in it needs escalation. " * 4
).strip()
SERVER = "from openharness_actors.testing.fake_anthropic import main; main()"


async def start_server(nursery: trio.Nursery, latency: float) -> str:
    """Start the fake server in a child process (cancelled with ``nursery``); its base URL."""
    command = [sys.executable, "-c", SERVER, "--latency", str(latency), "--reply", REPLY]
    process: trio.Process = await nursery.start(
        partial(trio.run_process, command, stdout=subprocess.PIPE, check=False)
    )
    assert process.stdout is not None
    seen = b""
    with trio.fail_after(30):
        while b"\n" not in seen:
            chunk = await process.stdout.receive_some()
            if not chunk:
                raise RuntimeError("the fake server exited before printing its URL")
            seen += chunk
    return seen.split(b"\n", 1)[0].decode().strip()


async def measure(n: int, call: Callable[[int], Awaitable[None]]) -> dict[str, Any]:
    """Run ``call(0..n-1)`` concurrently; wall time, process CPU and per-call latencies."""
    latencies: list[float] = []

    async def timed(index: int) -> None:
        started = time.perf_counter()
        await call(index)
        latencies.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    async with trio.open_nursery() as nursery:
        for index in range(n):
            nursery.start_soon(timed, index)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"wall_s": wall, "cpu_s": cpu, "latencies": latencies}


async def sdk_case(base_url: str, n: int) -> dict[str, Any]:
    async with anthropic.AsyncAnthropic(api_key=KEY, base_url=base_url, max_retries=0) as client:

        async def call(index: int) -> None:
            stream = await client.messages.create(
                model=MODEL,
                max_tokens=1024,
                messages=[{"role": "user", "content": f"Analyze case {index}"}],
                stream=True,
            )
            async for _event in stream:
                pass

        await measure(n, call)
        return await measure(n, call)


async def harness_case(base_url: str, n: int) -> dict[str, Any]:
    async with AnthropicHarness(
        api_key=KEY, base_url=base_url, model=MODEL, max_concurrency=n
    ) as harness:

        async def drop(event: HarnessEvent) -> None:
            pass

        async def call(index: int) -> None:
            request = HarnessRequest(agent="bench", prompt=f"Analyze case {index}", run_id="bench")
            await harness.run(request, drop)

        await measure(n, call)
        return await measure(n, call)


async def workflow_case(base_url: str, n: int) -> dict[str, Any]:
    wf = create_workflow(dict)
    agents = {
        f"agent{i}": wf.agent(
            prompt=f"Analyze case {i}", activate_on=["workflow:start"], updates=f"result{i}"
        )
        for i in range(n)
    }
    state = {f"result{i}": None for i in range(n)}
    async with AnthropicHarness(
        api_key=KEY, base_url=base_url, model=MODEL, max_concurrency=n
    ) as harness:

        async def run_once() -> dict[str, Any]:
            outcome: dict[str, Any] = {}

            async def whole_run(_: int) -> None:
                result = await wf.run_reactive(
                    agents=agents, state=state, harness=harness, timeout=120
                )
                assert all(value == REPLY for value in result.state.values())
                outcome["signals"] = len(result.signals)
                outcome["latencies"] = [
                    figures.duration_ms / 1000 for figures in result.metrics.agents.values()
                ]

            measured = await measure(1, whole_run)
            measured.update(outcome)
            return measured

        await run_once()
        return await run_once()


CASES = {"sdk": sdk_case, "harness": harness_case, "workflow": workflow_case}


async def main(n: int, latency: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with trio.open_nursery() as nursery:
        base_url = await start_server(nursery, latency)
        for name, case in CASES.items():
            measured = await case(base_url, n)
            latencies = sorted(measured.pop("latencies"))
            row = {
                "case": name,
                "n": n,
                "latency_s": latency,
                "wall_s": round(measured["wall_s"], 4),
                "cpu_s": round(measured["cpu_s"], 4),
                "cpu_per_call_ms": round(measured["cpu_s"] / n * 1000, 3),
                "calls_per_s": round(n / measured["wall_s"], 1),
                "call_p50_ms": round(statistics.median(latencies) * 1000, 1),
                "call_max_ms": round(latencies[-1] * 1000, 1),
            }
            if "signals" in measured:
                row["signals"] = measured["signals"]
            print(json.dumps(row), flush=True)
            rows.append(row)
        nursery.cancel_scope.cancel()
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    columns = [
        "case",
        "n",
        "wall_s",
        "cpu_s",
        "cpu_per_call_ms",
        "calls_per_s",
        "call_p50_ms",
        "call_max_ms",
    ]
    widths = {
        column: max(len(column), *(len(str(row[column])) for row in rows)) for column in columns
    }
    print()
    print("  ".join(column.rjust(widths[column]) for column in columns))
    for row in rows:
        print("  ".join(str(row[column]).rjust(widths[column]) for column in columns))
    floor = next(row for row in rows if row["case"] == "sdk")
    print()
    for row in rows:
        if row is not floor and floor["cpu_per_call_ms"]:
            ratio = row["cpu_per_call_ms"] / floor["cpu_per_call_ms"]
            print(f"{row['case']}: {ratio:.2f}x the bare SDK's CPU per call")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="concurrent activations (default 200)")
    parser.add_argument(
        "--latency", type=float, default=0.1, help="server latency in seconds (default 0.1)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny and fast: N=8, 5 ms latency")
    args = parser.parse_args()
    n, latency = (8, 0.005) if args.smoke else (args.n, args.latency)
    os.environ.pop("ANTHROPIC_BASE_URL", None)
    rows = trio.run(main, n, latency)
    print_table(rows)


if __name__ == "__main__":
    cli()
