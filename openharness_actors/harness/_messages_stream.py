"""Reading a streamed Messages API reply: server-sent events in, one assistant turn out.

:class:`SSEDecoder` splits the response body into events; :class:`TurnAssembler` folds the
Messages API events (``message_start``, ``content_block_*``, ``message_delta``,
``message_stop``) into the turn's content blocks, stop reason and usage, and returns the
harness events each one produces as it arrives: ``TextDelta``/``ThinkingDelta`` per delta,
``TextComplete``/``ThinkingComplete`` per finished block, ``ToolCall`` per finished
``tool_use`` block. An ``error`` event raises :class:`StreamErrorEvent`. Works on plain
JSON data; it imports no SDK and performs no I/O.
"""

from __future__ import annotations

import codecs
import json
from typing import Any

import attrs

from .._core._usage import Usage
from .protocol import (
    HarnessEvent,
    TextComplete,
    TextDelta,
    ThinkingComplete,
    ThinkingDelta,
    ToolCall,
)

__all__ = ["SSEDecoder", "StreamErrorEvent", "ToolUse", "TurnAssembler"]


class StreamErrorEvent(Exception):
    """The stream carried an ``error`` event: ``error_type`` (e.g. ``overloaded_error``)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


@attrs.frozen
class ToolUse:
    """A finished ``tool_use`` block; ``error`` is set when its input was not valid JSON."""

    id: str
    name: str
    input: dict[str, Any]
    error: str | None = None


class SSEDecoder:
    """Incremental server-sent events decoder: bytes in, ``(event, data)`` pairs out."""

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._partial = ""
        self._event: str | None = None
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[tuple[str, str]]:
        """The events completed by ``chunk`` (a blank line ends an event)."""
        lines = (self._partial + self._utf8.decode(chunk)).split("\n")
        self._partial = lines.pop()
        events: list[tuple[str, str]] = []
        for line in lines:
            line = line.removesuffix("\r")
            if not line:
                if self._data or self._event is not None:
                    events.append((self._event or "message", "\n".join(self._data)))
                self._event, self._data = None, []
            elif not line.startswith(":"):
                field, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if field == "event":
                    self._event = value
                elif field == "data":
                    self._data.append(value)
        return events


@attrs.define
class _Block:
    kind: str
    parts: list[str] = attrs.Factory(list)
    signature: str = ""
    id: str = ""
    name: str = ""
    raw: dict[str, Any] = attrs.Factory(dict)
    tool_use: ToolUse | None = None


class TurnAssembler:
    """Folds one streamed assistant turn together. ``done`` becomes true at ``message_stop``."""

    def __init__(self) -> None:
        self.model: str | None = None
        self.stop_reason: str | None = None
        self.usage = Usage()
        self.done = False
        self._blocks: dict[int, _Block] = {}

    def feed(self, data: dict[str, Any]) -> list[HarnessEvent]:
        """Apply one event; returns the harness events it produces (maybe none)."""
        kind = data.get("type")
        if kind == "content_block_delta":
            return self._delta(self._blocks[data["index"]], data["delta"])
        if kind == "content_block_start":
            self._blocks[data["index"]] = _start(data["content_block"])
            return []
        if kind == "content_block_stop":
            return _stop(self._blocks[data["index"]])
        if kind == "message_start":
            message = data["message"]
            self.model = message.get("model")
            self.usage = _merge_usage(Usage(), message.get("usage") or {})
        elif kind == "message_delta":
            self.stop_reason = (data.get("delta") or {}).get("stop_reason") or self.stop_reason
            self.usage = _merge_usage(self.usage, data.get("usage") or {})
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            error = data.get("error") or {}
            raise StreamErrorEvent(str(error.get("type", "error")), str(error.get("message", "")))
        return []

    @property
    def text(self) -> str:
        """The turn's text blocks, joined."""
        return "".join("".join(block.parts) for block in self._ordered() if block.kind == "text")

    @property
    def tool_uses(self) -> list[ToolUse]:
        """The turn's finished ``tool_use`` blocks, in order."""
        return [block.tool_use for block in self._ordered() if block.tool_use is not None]

    def content(self) -> list[dict[str, Any]]:
        """The turn as the ``content`` of an assistant message sent back to the API (empty
        text blocks left out, as the API refuses them)."""
        content: list[dict[str, Any]] = []
        for block in self._ordered():
            if block.kind == "text":
                text = "".join(block.parts)
                if text:
                    content.append({"type": "text", "text": text})
            elif block.kind == "thinking":
                content.append(
                    {
                        "type": "thinking",
                        "thinking": "".join(block.parts),
                        "signature": block.signature,
                    }
                )
            elif block.tool_use is not None:
                use = block.tool_use
                content.append(
                    {"type": "tool_use", "id": use.id, "name": use.name, "input": use.input}
                )
            else:
                content.append(block.raw)
        return content

    def _ordered(self) -> list[_Block]:
        return [self._blocks[index] for index in sorted(self._blocks)]

    def _delta(self, block: _Block, delta: dict[str, Any]) -> list[HarnessEvent]:
        kind = delta.get("type")
        if kind == "text_delta":
            block.parts.append(delta["text"])
            return [TextDelta(delta["text"])]
        if kind == "thinking_delta":
            block.parts.append(delta["thinking"])
            return [ThinkingDelta(delta["thinking"])]
        if kind == "input_json_delta":
            block.parts.append(delta["partial_json"])
        elif kind == "signature_delta":
            block.signature += delta["signature"]
        return []


def _start(content_block: dict[str, Any]) -> _Block:
    kind = content_block.get("type", "")
    if kind == "text":
        return _Block("text", [content_block.get("text", "")])
    if kind == "thinking":
        return _Block(
            "thinking",
            [content_block.get("thinking", "")],
            signature=content_block.get("signature", ""),
        )
    if kind == "tool_use":
        return _Block("tool_use", id=content_block["id"], name=content_block["name"])
    return _Block(kind, raw=dict(content_block))


def _stop(block: _Block) -> list[HarnessEvent]:
    if block.kind == "text":
        return [TextComplete("".join(block.parts))]
    if block.kind == "thinking":
        return [ThinkingComplete("".join(block.parts))]
    if block.kind == "tool_use":
        raw = "".join(block.parts)
        try:
            arguments = json.loads(raw) if raw.strip() else {}
            error = (
                None if isinstance(arguments, dict) else f"tool input is not a JSON object: {raw!r}"
            )
        except ValueError as exc:
            arguments, error = None, f"tool input is not valid JSON ({exc}): {raw!r}"
        block.tool_use = ToolUse(
            block.id, block.name, arguments if isinstance(arguments, dict) else {}, error
        )
        return [ToolCall(block.id, block.name, block.tool_use.input)]
    return []


def _merge_usage(usage: Usage, data: dict[str, Any]) -> Usage:
    """Usage figures in stream events are cumulative: a later figure replaces an earlier one."""
    return Usage(
        input_tokens=_count(data, "input_tokens", usage.input_tokens),
        output_tokens=_count(data, "output_tokens", usage.output_tokens),
        cache_read_input_tokens=_count(
            data, "cache_read_input_tokens", usage.cache_read_input_tokens
        ),
        cache_creation_input_tokens=_count(
            data, "cache_creation_input_tokens", usage.cache_creation_input_tokens
        ),
    )


def _count(data: dict[str, Any], key: str, default: int) -> int:
    value = data.get(key)
    return int(value) if isinstance(value, int) else default
