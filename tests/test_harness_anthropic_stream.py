"""Reading a streamed Messages API reply: SSE decoding and turn assembly."""

from __future__ import annotations

import json

import pytest

from openharness_actors import Usage
from openharness_actors.harness import (
    TextComplete,
    TextDelta,
    ThinkingComplete,
    ThinkingDelta,
    ToolCall,
)
from openharness_actors.harness._messages_stream import SSEDecoder, StreamErrorEvent, TurnAssembler


def test_sse_decoder_handles_split_chunks() -> None:
    """Events split anywhere, even inside a UTF-8 character or a CRLF, come out whole."""
    body = 'event: a\r\ndata: {"x": "é"}\r\n\r\n: comment\nevent: b\ndata: 1\ndata: 2\n\n'.encode()
    decoder = SSEDecoder()
    events = []
    for index in range(len(body)):
        events += decoder.feed(body[index : index + 1])
    assert events == [("a", '{"x": "é"}'), ("b", "1\n2")]


def stream(*events: dict[str, object]) -> list[dict[str, object]]:
    return list(events)


def test_turn_assembly_of_thinking_text_and_tool_use() -> None:
    """Deltas become events as they arrive; blocks, stop reason and usage are folded together."""
    turn = TurnAssembler()
    produced = []
    for event in stream(
        {
            "type": "message_start",
            "message": {
                "model": "m",
                "usage": {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 4},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "Hm"},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "signature_delta", "signature": "sig"},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Hi "}},
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "text_delta", "text": "there"},
        },
        {"type": "content_block_stop", "index": 1},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "t1", "name": "f", "input": {}},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": '{"a": '},
        },
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "input_json_delta", "partial_json": "1}"},
        },
        {"type": "content_block_stop", "index": 2},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "tool_use"},
            "usage": {"output_tokens": 30},
        },
        {"type": "message_stop"},
    ):
        produced += turn.feed(event)
    assert produced == [
        ThinkingDelta("Hm"),
        ThinkingComplete("Hm"),
        TextDelta("Hi "),
        TextDelta("there"),
        TextComplete("Hi there"),
        ToolCall("t1", "f", {"a": 1}),
    ]
    assert turn.done
    assert turn.model == "m"
    assert turn.stop_reason == "tool_use"
    assert turn.usage == Usage(input_tokens=10, output_tokens=30, cache_read_input_tokens=4)
    assert turn.text == "Hi there"
    assert turn.content() == [
        {"type": "thinking", "thinking": "Hm", "signature": "sig"},
        {"type": "text", "text": "Hi there"},
        {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
    ]


def test_malformed_tool_input_is_kept_as_an_error() -> None:
    """A tool_use whose input is not a JSON object is reported with empty input and an error."""
    turn = TurnAssembler()
    turn.feed(
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "tool_use", "id": "t", "name": "f"},
        }
    )
    turn.feed(
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": "{oops"},
        }
    )
    assert turn.feed({"type": "content_block_stop", "index": 0}) == [ToolCall("t", "f", {})]
    (use,) = turn.tool_uses
    assert use.input == {}
    assert use.error is not None
    assert "not valid JSON" in use.error


def test_error_event_raises() -> None:
    """An error event in the stream raises StreamErrorEvent with its type."""
    with pytest.raises(StreamErrorEvent) as caught:
        TurnAssembler().feed(
            json.loads(
                '{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}'
            )
        )
    assert caught.value.error_type == "overloaded_error"
    assert caught.value.message == "Overloaded"
