"""Per-call overhead of ClaudeCodeHarness (a process per call, or a reused process) next to
AnthropicHarness, against the in-process fake Messages API with no latency.

Each case makes ``--calls`` sequential calls of one agent (a one-line prompt, a ~30-character
streamed reply) and reports the first call (process start and connection set-up included)
and the median and 90th percentile of the rest, in milliseconds of wall time:

- ``anthropic``: ``AnthropicHarness.run`` (one HTTP request per call, connection kept).
- ``claude-code reused``: ``ClaudeCodeHarness(reuse=True)``: the first call starts the CLI,
  later calls reuse it after ``/clear``.
- ``claude-code per call``: ``ClaudeCodeHarness(reuse=False)``: a new CLI process per call.

The CLI runs offline (test key, temporary HOME, no nonessential traffic). Prints one JSON
line per case, then a Markdown table. ``--smoke`` makes two calls per case.

    python benchmarks/claude_code_overhead.py            # 15 calls per case
    python benchmarks/claude_code_overhead.py --smoke
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from typing import Any

import trio

from openharness_actors import AnthropicHarness, ClaudeCodeHarness, Harness
from openharness_actors.harness import HarnessEvent, HarnessRequest
from openharness_actors.testing import FakeAnthropic, open_fake_anthropic, text_reply

REPLY = "A short reply from the fake API."


async def drop(event: HarnessEvent) -> None:
    del event


async def measure(harness: Harness, calls: int) -> list[float]:
    """Wall milliseconds of each of ``calls`` sequential calls."""
    times: list[float] = []
    for index in range(calls):
        request = HarnessRequest("agent", f"question {index}", "bench", system="Be brief.")
        started = time.perf_counter()
        result = await harness.run(request, drop)
        times.append((time.perf_counter() - started) * 1000)
        if result.output != REPLY:
            raise SystemExit(f"unexpected reply {result.output!r}")
    return times


def cli_env(server: FakeAnthropic, home: str) -> dict[str, str]:
    return {
        "ANTHROPIC_BASE_URL": server.base_url,
        "ANTHROPIC_API_KEY": "test-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "HOME": home,
    }


async def main(calls: int, smoke: bool) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    async with open_fake_anthropic(text_reply(REPLY)) as server:
        with tempfile.TemporaryDirectory() as home:
            cases: list[tuple[str, Any]] = [
                (
                    "anthropic",
                    lambda: AnthropicHarness(api_key="test-key", base_url=server.base_url),
                ),
                (
                    "claude-code reused",
                    lambda: ClaudeCodeHarness(env=cli_env(server, home), cwd=home, reuse=True),
                ),
                (
                    "claude-code per call",
                    lambda: ClaudeCodeHarness(env=cli_env(server, home), cwd=home, reuse=False),
                ),
            ]
            for name, make in cases:
                async with make() as harness:
                    times = await measure(harness, calls)
                rest = sorted(times[1:])
                record = {
                    "case": name,
                    "calls": calls,
                    "first_ms": round(times[0], 1),
                    "median_ms": round(statistics.median(rest), 1),
                    "p90_ms": round(rest[max(0, int(len(rest) * 0.9) - 1)], 1),
                    "smoke": smoke,
                }
                print(json.dumps(record), flush=True)
                records.append(record)
    return records


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    found = trio.run(main, 2 if args.smoke else max(2, args.calls), args.smoke)
    print("\n| mode | first call | later calls, median | p90 |\n|---|---|---|---|")
    for record in found:
        print(
            f"| {record['case']} | {record['first_ms']:.0f} ms | {record['median_ms']:.0f} ms "
            f"| {record['p90_ms']:.0f} ms |"
        )
