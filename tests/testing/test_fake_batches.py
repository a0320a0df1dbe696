"""The fake server's Message Batches API, driven by the official SDK: create, retrieve,
results as JSONL, per-request errors and outcomes, cancel, validation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx
import pytest
import trio
import trio.testing

from openharness_actors.testing.fake_anthropic import (
    FakeAnthropic,
    RecordedRequest,
    http_error,
    open_fake_anthropic,
    text_reply,
)

KEY = "sk-ant-test-key-0123456789"


def request(custom_id: str, text: str = "hi", **params: Any) -> dict[str, Any]:
    body = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": text}],
    }
    return {"custom_id": custom_id, "params": body | params}


@pytest.fixture
async def server() -> AsyncIterator[FakeAnthropic]:
    async with open_fake_anthropic() as fake:
        yield fake


@pytest.fixture
async def client(server: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    sdk = anthropic.AsyncAnthropic(api_key=KEY, base_url=server.base_url, max_retries=0)
    yield sdk
    await sdk.close()


async def test_batch_lifecycle(
    server: FakeAnthropic, client: anthropic.AsyncAnthropic, autojump_clock: trio.testing.MockClock
) -> None:
    """A batch is in progress for processing_time, then ended with a results_url whose JSONL
    holds one line per request: succeeded messages and errored results."""
    server.batches.processing_time = 10.0
    server.script(text_reply("one"), http_error(529))
    batch = await client.messages.batches.create(requests=[request("a"), request("b")])  # type: ignore[list-item]
    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 2
    assert batch.results_url is None
    await trio.sleep(9.0)
    assert (await client.messages.batches.retrieve(batch.id)).processing_status == "in_progress"
    await trio.sleep(1.0)
    ended = await client.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended"
    assert ended.request_counts.succeeded == 1
    assert ended.request_counts.errored == 1
    assert ended.results_url == f"{server.base_url}/v1/messages/batches/{batch.id}/results"
    lines = {
        line.custom_id: line.result
        async for line in await client.messages.batches.results(batch.id)
    }
    assert lines["a"].type == "succeeded"
    assert lines["a"].message.content[0].text == "one"  # type: ignore[union-attr]
    assert lines["b"].type == "errored"
    assert lines["b"].error.error.type == "overloaded_error"
    assert [r.path for r in server.requests if r.method == "POST"] == ["/v1/messages/batches"]
    assert [r.body["messages"][0]["content"] for r in server.batches.requests] == ["hi", "hi"]


async def test_outcomes_and_cancel(server: FakeAnthropic, client: anthropic.AsyncAnthropic) -> None:
    """outcome() makes requests expired or canceled; cancel ends a batch at once, the
    requests not yet done canceled."""

    def outcome(inner: RecordedRequest) -> str | None:
        return "expired" if inner.last_user_text == "old" else None

    server.batches.outcome = outcome
    batch = await client.messages.batches.create(requests=[request("x", "old"), request("y")])  # type: ignore[list-item]
    kinds = {
        line.custom_id: line.result.type
        async for line in await client.messages.batches.results(batch.id)
    }
    assert kinds == {"x": "expired", "y": "succeeded"}

    server.batches.processing_time = 3600.0
    slow = await client.messages.batches.create(requests=[request("z")])  # type: ignore[list-item]
    canceled = await client.messages.batches.cancel(slow.id)
    assert canceled.processing_status == "ended"
    assert canceled.request_counts.canceled == 1
    kinds = {
        line.custom_id: line.result.type
        async for line in await client.messages.batches.results(slow.id)
    }
    assert kinds == {"z": "canceled"}


async def test_bad_batches_are_refused(
    server: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    """Empty, duplicate-id, badly named and streaming requests get 400; unknown ids 404;
    results before the end 400; no key 401."""
    for requests in (
        [],
        [request("a"), request("a")],
        [request("not ok!")],
        [request("s", stream=True)],
    ):
        with pytest.raises(anthropic.BadRequestError):
            await client.messages.batches.create(requests=requests)  # type: ignore[arg-type]
    with pytest.raises(anthropic.NotFoundError):
        await client.messages.batches.retrieve("msgbatch_nope")
    server.batches.processing_time = 60.0
    batch = await client.messages.batches.create(requests=[request("a")])  # type: ignore[list-item]
    with pytest.raises(anthropic.AnthropicError):
        await client.messages.batches.results(batch.id)
    async with httpx.AsyncClient(base_url=server.base_url) as raw:
        response = await raw.get(f"/v1/messages/batches/{batch.id}")
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert server.batches.created == 1


async def test_cache_accounting_in_plain_calls(
    server: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    """A request with a cache_control block writes the prefix, the next identical prefix
    reads it; a request without one reports no cache traffic."""
    system = [{"type": "text", "text": "rules " * 200, "cache_control": {"type": "ephemeral"}}]
    first = await client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=8,
        system=system,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "q1"}],
    )
    second = await client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=8,
        system=system,  # type: ignore[arg-type]
        messages=[{"role": "user", "content": "q2"}],
    )
    plain = await client.messages.create(
        model="claude-sonnet-4-5", max_tokens=8, messages=[{"role": "user", "content": "q3"}]
    )
    assert first.usage.cache_creation_input_tokens and not first.usage.cache_read_input_tokens
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert not plain.usage.cache_read_input_tokens and not plain.usage.cache_creation_input_tokens
    assert (server.cache.writes, server.cache.reads) == (1, 1)
