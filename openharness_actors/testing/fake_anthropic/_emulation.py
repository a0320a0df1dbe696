"""The Messages API as the fake server emulates it: request validation, the SSE events of a
reply, the final message and its usage estimate, error bodies. No sockets."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ..._core._usage import Usage
from ._replies import FakeReply

if TYPE_CHECKING:
    from ._server import RecordedRequest

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def _validate(record: RecordedRequest) -> tuple[int, str] | None:
    if record.method != "POST" or record.path != "/v1/messages":
        return 404, f"no route for {record.method} {record.path}"
    if not record.api_key:
        return 401, "an x-api-key header or a bearer token is required"
    body = record.body
    if not isinstance(body, dict):
        return 400, "the body must be a JSON object"
    missing = [key for key in ("model", "max_tokens", "messages") if key not in body]
    if missing:
        return 400, f"missing required field(s): {', '.join(missing)}"
    messages = body["messages"]
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        return 400, "messages must be a list of objects"
    for position, message in enumerate(messages):
        asked = [
            block["id"]
            for block in (
                message.get("content") if isinstance(message.get("content"), list) else []
            )
            if isinstance(block, dict) and block.get("type") == "tool_use"
        ]
        if not asked or message.get("role") != "assistant":
            continue
        later = [m for m in messages[position + 1 :] if m.get("role") != "system"]
        following = later[0] if later else None  # the CLI may put system-role messages between
        content = following.get("content") if isinstance(following, dict) else None
        answered = {
            block.get("tool_use_id")
            for block in (content if isinstance(content, list) else [])
            if isinstance(block, dict) and block.get("type") == "tool_result"
        }
        if set(asked) - answered:
            return (
                400,
                f"messages.{position + 1}: tool_use ids without tool_result: "
                f"{sorted(set(asked) - answered)}",
            )
    return None


def _stream_events(
    message_id: str,
    model: str,
    blocks: Sequence[dict[str, Any]],
    reply: FakeReply,
    usage: Usage,
    chunk: int,
) -> Iterator[tuple[str, dict[str, Any]]]:
    start_usage = {
        "input_tokens": usage.input_tokens,
        "output_tokens": 1,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
    }
    yield (
        "message_start",
        {
            "type": "message_start",
            "message": _message(message_id, model, [], reply, None) | {"usage": start_usage},
        },
    )
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "thinking":
            start: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": part}
                for part in _chunks(block["thinking"], chunk)
            ] + [{"type": "signature_delta", "signature": block["signature"]}]
        elif kind == "text":
            start = {"type": "text", "text": ""}
            deltas = [
                {"type": "text_delta", "text": part} for part in _chunks(block["text"], chunk)
            ]
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": part}
                for part in _chunks(json.dumps(block["input"]), chunk)
            ]
        yield (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        )
        if index == 0:
            yield "ping", {"type": "ping"}
        for delta in deltas:
            yield (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            )
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield (
        "message_delta",
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
            "usage": attrs.asdict(usage),
        },
    )
    yield "message_stop", {"type": "message_stop"}


def _message(
    message_id: str,
    model: str,
    blocks: Sequence[dict[str, Any]],
    reply: FakeReply,
    usage: Usage | None,
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": list(blocks),
        "stop_reason": _stop_reason(reply) if usage is not None else None,
        "stop_sequence": None,
        "usage": attrs.asdict(usage) if usage is not None else None,
    }


def _stop_reason(reply: FakeReply) -> str:
    if reply.stop_reason is not None:
        return reply.stop_reason
    return "tool_use" if reply.tool_uses else "end_turn"


def _estimate_usage(body: dict[str, Any], reply: FakeReply) -> Usage:
    asked = len(json.dumps([body.get("system"), body.get("messages"), body.get("tools")]))
    answered = (
        len(reply.text)
        + len(reply.thinking or "")
        + sum(len(json.dumps(dict(use.input))) + len(use.name) for use in reply.tool_uses)
    )
    return Usage(
        input_tokens=max(1, math.ceil(asked / 4)), output_tokens=max(1, math.ceil(answered / 4))
    )


def _chunks(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)] or [""]


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block.get("text", "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return ""


def _error_body(error_type: str, message: str, request_id: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
