"""A recording made against the fake Anthropic server replays with no server running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from openharness_actors import AnthropicHarness, JsonlSignalStore, Recording, create_workflow
from openharness_actors.testing import open_fake_anthropic, text_reply, tool_use_reply


@attrs.frozen
class Trip:
    city: str
    weather: str | None = None
    advice: str | None = None


def forecast(city: str) -> dict[str, Any]:
    """Today's forecast for a city."""
    return {"city": city, "sky": "rain", "high_c": 14}


wf = create_workflow(Trip)
AGENTS = {
    "weather": wf.agent(
        prompt="What is the weather in {{ city }}?",
        activate_on=["workflow:start"],
        updates="weather",
        emits=["weather:known"],
        tools=[forecast],
    ),
    "advisor": wf.agent(
        prompt="Given {{ weather }}, what should I pack?",
        activate_on=["weather:known"],
        updates="advice",
    ),
}


def per_agent(signals: Any) -> dict[str, list[tuple[str, Any]]]:
    """Each agent's signal names and payloads, minus timings that differ between runs."""
    found: dict[str, list[tuple[str, Any]]] = {}
    for signal in signals:
        if signal.source.agent is None:
            continue
        payload = {k: v for k, v in signal.payload.items() if k != "duration_ms"}
        found.setdefault(signal.source.agent, []).append((signal.name, payload))
    return found


async def test_recorded_against_fake_server_replays_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Record a tool-using, two-agent run through AnthropicHarness; replay it with no server and no key."""
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    store = JsonlSignalStore(tmp_path / "recordings")
    async with open_fake_anthropic() as server:
        server.script(
            tool_use_reply(("forecast", {"city": "Oslo"}), text="Let me check."),
            text_reply("Rainy, 14°C."),
            text_reply("An umbrella and a warm coat."),
        )
        async with AnthropicHarness(api_key="sk-ant-test", base_url=server.base_url) as harness:
            recorded = await wf.run_reactive(
                agents=AGENTS,
                state=Trip("Oslo"),
                harness=harness,
                recording=Recording(mode="record", store=store, name="trip"),
            )
        assert server.statistics().requests == 3
    assert recorded.state == Trip("Oslo", "Rainy, 14°C.", "An umbrella and a warm coat.")
    assert [s.name for s in recorded.signals].count("tool:result") == 1

    replayed = await wf.run_reactive(
        agents=AGENTS,
        state=Trip("Oslo"),
        recording=Recording(mode="replay", store=store, name="trip"),
    )
    assert replayed.state == recorded.state
    assert per_agent(replayed.signals) == per_agent(recorded.signals)
    assert replayed.recording_id == recorded.recording_id
