"""A tool-using agent: Claude calls Python functions, the harness runs the tool loop.

Run it: ``python examples/tool_agent.py``. With ``ANTHROPIC_API_KEY`` set it talks to Claude.
Without one it starts the bundled fake Messages API server (a real HTTP server on 127.0.0.1,
from ``openharness_actors.testing``) scripted to ask for the tools, so the real
``AnthropicHarness`` tool loop runs offline.
"""

from __future__ import annotations

import os
from typing import Any

import attrs
import trio
import trio.lowlevel

from openharness_actors import AnthropicHarness, ConsoleReporter, create_workflow
from openharness_actors.testing import open_fake_anthropic, text_reply, tool_use_reply


@attrs.frozen
class Trip:
    city: str
    plan: str | None = None


def forecast(city: str, days: int = 1) -> dict[str, Any]:
    """The weather forecast for a city for the next few days."""
    return {"city": city, "days": days, "sky": ["rain", "clouds", "sun"][:days], "high_c": 14}


async def train_times(origin: str, destination: str) -> list[str]:
    """Departure times of today's trains between two cities."""
    await trio.lowlevel.checkpoint()
    return ["08:05", "12:40", "17:15"]


workflow = create_workflow(Trip)
planner = workflow.agent(
    prompt="Plan a day trip from Bergen to {{ city }}: check the weather and the trains.",
    system="You are a concise travel planner. Use the tools; answer in three lines.",
    activate_on=["workflow:start"],
    updates="plan",
    tools=[forecast, train_times],
)


async def plan_trip(harness: AnthropicHarness) -> Trip:
    result = await workflow.run_reactive(
        agents={"planner": planner},
        state=Trip("Oslo"),
        harness=harness,
        reporters=[ConsoleReporter(payloads=True, only=["tool:*", "agent:*"])],
        timeout=120,
    )
    return result.state


async def main() -> None:
    if os.environ.get("ANTHROPIC_API_KEY"):
        async with AnthropicHarness() as harness:
            trip = await plan_trip(harness)
    else:
        async with open_fake_anthropic() as server:
            server.script(
                tool_use_reply(
                    ("forecast", {"city": "Oslo", "days": 2}),
                    ("train_times", {"origin": "Bergen", "destination": "Oslo"}),
                    text="Checking the weather and the trains.",
                ),
                text_reply(
                    "Take the 08:05 train.\nPack a raincoat: rain, then clouds, 14°C.\n"
                    "Return on the 17:15."
                ),
            )
            async with AnthropicHarness(
                api_key="offline-demo", base_url=server.base_url
            ) as harness:
                trip = await plan_trip(harness)
    print(f"\n{trip.plan}")


if __name__ == "__main__":
    trio.run(main)
