"""Translating the SDK's messages into harness events and, at the end, a result.

The CLI reports a call as a stream of messages: ``StreamEvent`` (the raw Messages API stream
events: text and thinking deltas), ``AssistantMessage`` (a finished model turn: text, thinking
and ``tool_use`` blocks), ``UserMessage`` (tool results), ``SystemMessage`` (status) and one
``ResultMessage`` (final text, structured output, usage summed over the turns, cost, or an
error). :class:`Translator` turns the first four into ``text:delta``/``thinking:delta``,
``text:complete``/``thinking:complete``, ``tool:call`` and (for Claude Code's own tools)
``tool:result`` events; the result message becomes :class:`Outcome`. Messages are recognised
by class name so that this module needs no import of the SDK; subagent messages (with a
``parent_tool_use_id``) are not reported. It never starts a process or runs a tool.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ..._core._usage import Usage
from ..protocol import (
    HarnessEvent,
    TextComplete,
    TextDelta,
    ThinkingComplete,
    ThinkingDelta,
    ToolCall,
    ToolResult,
)
from ._bridge import ToolBridge
from ._options import BRIDGE_SERVER

__all__ = ["STRUCTURED_OUTPUT_TOOL", "Outcome", "Translator", "usage_of"]

STRUCTURED_OUTPUT_TOOL = "StructuredOutput"
"""The tool the CLI gives the model for ``output_format``; its calls are not reported."""

_PREFIX = f"mcp__{BRIDGE_SERVER}__"


@attrs.frozen
class Outcome:
    """What the ``ResultMessage`` said: the final reply or the failure."""

    text: str
    structured: Any
    usage: Usage
    cost_usd: float | None
    stop_reason: str | None
    is_error: bool
    subtype: str
    api_error_status: int | None
    errors: tuple[str, ...]
    assistant_error: str | None
    model: str | None


class Translator:
    """Events for one call's messages; ``outcome`` once the result message arrived."""

    def __init__(self, bridge: ToolBridge | None) -> None:
        self._bridge = bridge
        self._tool_names: dict[str, str] = {}
        self._bridged_ids: set[str] = set()
        self._assistant_error: str | None = None
        self._model: str | None = None
        self.outcome: Outcome | None = None

    def feed(self, message: Any) -> Iterator[HarnessEvent]:
        """The events ``message`` stands for (none for most system messages)."""
        kind = type(message).__name__
        if getattr(message, "parent_tool_use_id", None) is not None:
            return
        if kind == "StreamEvent":
            yield from self._stream_event(message.event)
        elif kind == "AssistantMessage":
            yield from self._assistant(message)
        elif kind == "UserMessage":
            yield from self._user(message)
        elif kind == "ResultMessage":
            self.outcome = self._result(message)

    def _stream_event(self, event: Mapping[str, Any]) -> Iterator[HarnessEvent]:
        if event.get("type") != "content_block_delta":
            return
        delta = event.get("delta") or {}
        if delta.get("type") == "text_delta" and delta.get("text"):
            yield TextDelta(delta["text"])
        elif delta.get("type") == "thinking_delta" and delta.get("thinking"):
            yield ThinkingDelta(delta["thinking"])

    def _assistant(self, message: Any) -> Iterator[HarnessEvent]:
        self._model = getattr(message, "model", None) or self._model
        if getattr(message, "error", None) is not None:
            self._assistant_error = str(message.error)
            return
        for block in message.content:
            kind = type(block).__name__
            if kind == "TextBlock" and block.text:
                yield TextComplete(block.text)
            elif kind == "ThinkingBlock" and block.thinking:
                yield ThinkingComplete(block.thinking)
            elif kind == "ToolUseBlock" and block.name != STRUCTURED_OUTPUT_TOOL:
                bridged = block.name.startswith(_PREFIX)
                name = block.name[len(_PREFIX) :] if bridged else block.name
                self._tool_names[block.id] = name
                yield ToolCall(block.id, name, dict(block.input or {}))
                if bridged and self._bridge is not None:
                    self._bridged_ids.add(block.id)
                    self._bridge.announce(name, block.id)

    def _user(self, message: Any) -> Iterator[HarnessEvent]:
        content = message.content if isinstance(message.content, list) else []
        for block in content:
            if type(block).__name__ != "ToolResultBlock":
                continue
            tool_id = block.tool_use_id
            if tool_id in self._bridged_ids or tool_id not in self._tool_names:
                continue  # the bridge reported it, or it is the structured-output call
            text = _content_text(block.content)
            if block.is_error:
                yield ToolResult(tool_id, self._tool_names[tool_id], error=text)
            else:
                yield ToolResult(tool_id, self._tool_names[tool_id], result=text)

    def _result(self, message: Any) -> Outcome:
        return Outcome(
            text=message.result or "",
            structured=message.structured_output,
            usage=usage_of(message.usage),
            cost_usd=message.total_cost_usd,
            stop_reason=message.stop_reason,
            is_error=bool(message.is_error),
            subtype=str(message.subtype),
            api_error_status=getattr(message, "api_error_status", None),
            errors=tuple(str(error) for error in (getattr(message, "errors", None) or ())),
            assistant_error=self._assistant_error,
            model=_model_of(message) or self._model,
        )


def usage_of(usage: Mapping[str, Any] | None) -> Usage:
    """The result message's usage dict as :class:`Usage`."""
    if not usage:
        return Usage()

    def count(key: str) -> int:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return Usage(
        input_tokens=count("input_tokens"),
        output_tokens=count("output_tokens"),
        cache_read_input_tokens=count("cache_read_input_tokens"),
        cache_creation_input_tokens=count("cache_creation_input_tokens"),
    )


def _model_of(message: Any) -> str | None:
    models = getattr(message, "model_usage", None)
    if isinstance(models, Mapping) and len(models) == 1:
        return str(next(iter(models)))
    return None


def _content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return json.dumps(content, ensure_ascii=False, default=str)
