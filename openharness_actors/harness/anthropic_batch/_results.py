"""Batch results back into turns: a ``succeeded`` message replayed as a turn's events, and the
:class:`HarnessError` an ``errored``/``expired``/``canceled`` result (or a failure shared by a
batch's callers) stands for. This module reads results; it makes no API call.
"""

from __future__ import annotations

import json
from typing import Any

from ..._errors import HarnessError
from .._messages_stream import TurnAssembler
from ..anthropic._failures import _RETRYABLE_TYPES
from ..protocol import EventSink

__all__ = ["for_agent", "replay_message", "result_error"]


def for_agent(error: HarnessError, agent: str) -> HarnessError:
    """A copy of a failure shared by a batch's callers, for one of them."""
    mine = HarnessError(
        f"agent {agent!r}: {error}",
        agent=agent,
        code=error.code,
        retryable=error.retryable,
        status_code=error.status_code,
        request_id=error.request_id,
    )
    mine.__cause__ = error.__cause__ or error
    return mine


def result_error(result: dict[str, Any] | None, agent: str) -> HarnessError | None:
    """The failure a non-``succeeded`` result stands for, or ``None``."""
    kind = (result or {}).get("type")
    if kind == "succeeded":
        return None
    if kind == "errored":
        assert result is not None
        body: dict[str, Any] = result.get("error") or {}
        inner = body.get("error")
        error: dict[str, Any] = inner if isinstance(inner, dict) else body
        error_type = str(error.get("type") or "api_error")
        return HarnessError(
            f"agent {agent!r}: the batch request errored: {error_type}: {error.get('message', '')}",
            agent=agent,
            code=error_type,
            retryable=error_type in _RETRYABLE_TYPES,
            request_id=body.get("request_id"),
        )
    if kind == "expired":
        return HarnessError(
            f"agent {agent!r}: the batch expired before this request was processed",
            agent=agent,
            code="batch_expired",
            retryable=True,
        )
    if kind == "canceled":
        return HarnessError(
            f"agent {agent!r}: the batch was canceled before this request was processed",
            agent=agent,
            code="batch_canceled",
        )
    return HarnessError(
        f"agent {agent!r}: unknown batch result type {kind!r}", agent=agent, code="batch_result"
    )


async def replay_message(message: dict[str, Any], emit: EventSink) -> TurnAssembler:
    """Fold a batch result's message into a turn, emitting its events (one text delta and
    one text complete per text block, tool calls, thinking)."""
    turn = TurnAssembler()
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {**message, "content": []}}
    ]
    for index, block in enumerate(message.get("content") or []):
        kind = block.get("type")
        deltas: list[dict[str, Any]] = []
        if kind == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            if block.get("text"):
                deltas = [{"type": "text_delta", "text": block["text"]}]
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": block.get("thinking", "")},
                {"type": "signature_delta", "signature": block.get("signature", "")},
            ]
        elif kind == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": json.dumps(block.get("input"))}]
        else:
            start = block
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        events.extend(
            {"type": "content_block_delta", "index": index, "delta": delta} for delta in deltas
        )
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": message.get("stop_reason")},
            "usage": message.get("usage") or {},
        }
    )
    events.append({"type": "message_stop"})
    for event in events:
        for harness_event in turn.feed(event):
            await emit(harness_event)
    return turn
