"""The fake Messages API server, driven by the official SDK and by hand."""

from __future__ import annotations

import json

import anthropic
import pytest
import trio
from anthropic.types import MessageParam

from openharness_actors import Usage
from openharness_actors.testing.fake_anthropic import (
    FakeAnthropic,
    FakeReply,
    RecordedRequest,
    http_error,
    open_fake_anthropic,
    text_reply,
    tool_use_reply,
)

MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]


def client_for(server: FakeAnthropic) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(api_key="sk-test", base_url=server.base_url, max_retries=0)


async def test_json_reply_with_sdk() -> None:
    """A non-streaming request gets a Message with the scripted content and usage."""
    async with open_fake_anthropic() as server:
        server.script(tool_use_reply(("f", {"a": 1}), text="calling", usage=Usage(7, 3)))
        async with client_for(server) as client:
            message = await client.messages.create(
                model="claude-haiku-4-5", max_tokens=10, messages=MESSAGES
            )
    assert [block.type for block in message.content] == ["text", "tool_use"]
    assert message.stop_reason == "tool_use"
    assert message.model == "claude-haiku-4-5"
    assert message.usage.input_tokens == 7
    assert message.usage.output_tokens == 3
    assert server.requests[0].body["messages"] == MESSAGES


async def test_sse_reply_with_sdk_stream_helper() -> None:
    """The SDK's own stream helper accumulates the fake's SSE events into the same message."""
    async with open_fake_anthropic(chunk_size=2) as server:
        server.script(text_reply("streamed text", thinking="why not"))
        async with (
            client_for(server) as client,
            client.messages.stream(model="m", max_tokens=10, messages=MESSAGES) as stream,
        ):
            message = await stream.get_final_message()
    assert [block.type for block in message.content] == ["thinking", "text"]
    assert message.content[1].text == "streamed text"  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"


async def test_http_errors_carry_type_request_id_and_retry_after() -> None:
    """Scripted HTTP errors reach the SDK as its typed errors with the headers set."""
    async with open_fake_anthropic() as server:
        server.script(http_error(429, retry_after=2), http_error(529))
        async with client_for(server) as client:
            with pytest.raises(anthropic.RateLimitError) as limited:
                await client.messages.create(model="m", max_tokens=10, messages=MESSAGES)
            with pytest.raises(anthropic.InternalServerError) as overloaded:
                await client.messages.create(model="m", max_tokens=10, messages=MESSAGES)
    assert limited.value.response.headers["retry-after"] == "2"
    assert limited.value.request_id == "req_fake_1"
    assert limited.value.type == "rate_limit_error"
    assert overloaded.value.status_code == 529
    assert overloaded.value.type == "overloaded_error"


async def test_requests_are_validated_like_the_api() -> None:
    """No key gives 401, a missing field 400, an unanswered tool_use 400, another path 404."""
    async with open_fake_anthropic() as server, trio.open_nursery():
        async with anthropic.AsyncAnthropic(
            api_key="sk",
            base_url=server.base_url,
            max_retries=0,
            default_headers={"Authorization": anthropic.omit},  # type: ignore[dict-item]
        ) as keyless:
            with pytest.raises(anthropic.AuthenticationError):
                await keyless.messages.create(model="m", max_tokens=10, messages=MESSAGES)
        async with client_for(server) as client:
            with pytest.raises(anthropic.BadRequestError, match="max_tokens"):
                await client.post(
                    "/v1/messages", body={"model": "m", "messages": MESSAGES}, cast_to=object
                )
            unanswered = [
                *MESSAGES,
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}],
                },
            ]
            with pytest.raises(anthropic.BadRequestError, match="tool_result"):
                await client.messages.create(
                    model="m",
                    max_tokens=10,
                    messages=unanswered,  # type: ignore[arg-type]
                )
            with pytest.raises(anthropic.NotFoundError):
                await client.models.list()


async def test_default_responder_routes_on_the_request() -> None:
    """A callable default answers from the request; one that raises gets a 500 and is kept."""

    def responder(request: RecordedRequest) -> FakeReply:
        if request.last_user_text == "boom":
            raise RuntimeError("responder bug")
        return text_reply(request.last_user_text.upper())

    async with open_fake_anthropic(responder) as server, client_for(server) as client:
        message = await client.messages.create(model="m", max_tokens=10, messages=MESSAGES)
        with pytest.raises(anthropic.InternalServerError, match="responder bug"):
            await client.messages.create(
                model="m", max_tokens=10, messages=[{"role": "user", "content": "boom"}]
            )
    assert message.content[0].text == "HI"  # type: ignore[union-attr]
    assert [str(error) for error in server.errors] == ["responder bug"]


async def test_raw_sse_events_and_statistics() -> None:
    """The raw stream has the real event sequence; the server counts peaks and disconnects."""
    async with open_fake_anthropic(latency=0.05) as server:
        server.script(
            text_reply("ab", chunk_size=1), text_reply("c"), text_reply("never", latency=5)
        )
        async with client_for(server) as client:
            names: list[str] = []

            async def raw() -> None:
                async with client.messages.with_streaming_response.create(
                    model="m", max_tokens=10, messages=MESSAGES, stream=True
                ) as response:
                    text = (await response.http_response.aread()).decode()
                    names.extend(
                        line.removeprefix("event: ")
                        for line in text.splitlines()
                        if line.startswith("event: ")
                    )

            async with trio.open_nursery() as nursery:
                nursery.start_soon(raw)
                nursery.start_soon(raw)
            assert server.statistics().peak_in_flight == 2
            with trio.move_on_after(0.3):
                await client.messages.create(model="m", max_tokens=10, messages=MESSAGES)
            with trio.fail_after(1):
                await server.wait_disconnects(1)
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    statistics = server.statistics()
    assert statistics.requests == 3
    assert statistics.completed == 2
    assert statistics.disconnects == 1
    assert server.requests[2].disconnected
    assert not server.requests[2].finished
    assert statistics.dropped == 0
    assert json.loads(json.dumps(server.requests[0].body))["stream"] is True


async def raw_exchange(server: FakeAnthropic, request: bytes) -> bytes:
    """Send ``request`` as raw bytes and read until the server closes or goes quiet."""
    stream = await trio.open_tcp_stream("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]))
    async with stream:
        await stream.send_all(request)
        received = bytearray()
        with trio.move_on_after(1):
            while chunk := await stream.receive_some():
                received += chunk
                if b"\r\n\r\n" in received and request.startswith((b"HEAD", b"GET")):
                    break
    return bytes(received)


async def test_head_and_get_probes_get_empty_answers_and_keep_the_server_up() -> None:
    """HEAD and GET are answered without a body (200 on / and /api/hello, else 404)."""
    async with open_fake_anthropic() as server, client_for(server) as client:
        with trio.fail_after(5):
            head = await raw_exchange(server, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
            probe = await raw_exchange(server, b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n")
            other = await raw_exchange(server, b"HEAD /v1/models HTTP/1.1\r\nHost: x\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")
        assert probe.startswith(b"HTTP/1.1 200") and b"content-length: 0" in probe
        assert other.startswith(b"HTTP/1.1 404")
        message = await client.messages.create(model="m", max_tokens=10, messages=MESSAGES)
    assert message.content
    assert [r.method for r in server.requests] == ["HEAD", "GET", "HEAD", "POST"]
    assert server.errors == []


async def test_a_broken_connection_never_takes_the_server_down() -> None:
    """Garbage bytes and a non-list messages field fail that request only; the next one works."""
    async with open_fake_anthropic() as server, client_for(server) as client:
        with trio.fail_after(5):
            garbage = await raw_exchange(server, b"\x00\x01 not http at all\r\n\r\n")
        assert not garbage.startswith(b"HTTP/1.1 200")
        with pytest.raises(anthropic.BadRequestError, match="list of objects"):
            await client.post(
                "/v1/messages",
                body={"model": "m", "max_tokens": 1, "messages": ["hi"]},
                cast_to=object,
            )
        message = await client.messages.create(model="m", max_tokens=10, messages=MESSAGES)
    assert message.content


async def test_the_clis_extra_fields_query_string_and_system_messages_are_tolerated() -> None:
    """?beta=true, unknown fields and system-role messages between turns are accepted."""
    messages: list[dict[str, object]] = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "f", "input": {}}],
        },
        {"role": "system", "content": "a note from the harness"},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
        },
    ]
    async with open_fake_anthropic() as server, client_for(server) as client:
        reply = await client.post(
            "/v1/messages?beta=true",
            body={
                "model": "m",
                "max_tokens": 10,
                "messages": messages,
                "context_management": {"edits": []},
                "metadata": {"user_id": "u"},
            },
            cast_to=object,
        )
    assert isinstance(reply, dict) and reply["type"] == "message"
    (request,) = server.requests
    assert request.path == "/v1/messages"
    assert request.tool_results == [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}]
