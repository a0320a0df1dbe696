"""The MCP tool bridge: an agent's Python callables served to the CLI by an in-process SDK
MCP server, with ``tool:call``/``tool:result`` events in the right order.

The CLI sees each tool as ``mcp__openharness__<name>`` (allowed without a permission prompt)
and calls it over the SDK's control channel; the SDK runs the handler in a task of its own.
The handler waits until the translator has reported the model's ``tool_use`` block (which
carries the call's id) as ``tool:call``, runs the tool (:meth:`ToolSpec.call`: bad input and
exceptions become error results for the model) and reports ``tool:result``. A process serves
one activation at a time, so a bridge routes calls to the activation now attached
(:meth:`ToolBridge.attach`). This module never starts a process.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import trio

from .._tools import ToolSpec
from ..protocol import EventSink, ToolResult
from ._options import BRIDGE_SERVER

__all__ = ["ToolBridge"]

_ID_WAIT = 5.0  # seconds a handler waits for its tool_use block before going without an id


class ToolBridge:
    """The tools of one CLI process, and the activation their calls report to."""

    def __init__(self, specs: Mapping[str, ToolSpec]) -> None:
        self.specs = dict(specs)
        self._emit: EventSink | None = None
        self._pending: dict[str, deque[str]] = {}
        self._announced = trio.Event()

    def server(self, sdk: Any) -> Any:
        """The SDK MCP server config serving these tools."""
        tools = [
            sdk.SdkMcpTool(
                name=name,
                description=spec.description,
                input_schema=dict(spec.input_schema),
                handler=self._handler(name),
            )
            for name, spec in self.specs.items()
        ]
        return sdk.create_sdk_mcp_server(BRIDGE_SERVER, tools=tools)

    @contextmanager
    def attach(self, emit: EventSink) -> Iterator[None]:
        """Route tool calls to ``emit`` for the body (one activation)."""
        self._emit = emit
        self._pending.clear()
        try:
            yield
        finally:
            self._emit = None
            self._pending.clear()

    def announce(self, name: str, tool_use_id: str) -> None:
        """The translator saw the model ask for tool ``name`` (already emitted ``tool:call``)."""
        self._pending.setdefault(name, deque()).append(tool_use_id)
        self._announced.set()
        self._announced = trio.Event()

    async def _take_id(self, name: str) -> str:
        with trio.move_on_after(_ID_WAIT if self._emit is not None else 0):
            while not self._pending.get(name):
                await self._announced.wait()
        queue = self._pending.get(name)
        return queue.popleft() if queue else ""

    def _handler(self, name: str) -> Any:
        spec = self.specs[name]

        async def handle(arguments: Any) -> dict[str, Any]:
            tool_use_id = await self._take_id(name)
            outcome = await spec.call(arguments)
            emit = self._emit
            if emit is not None:
                await emit(ToolResult(tool_use_id, name, outcome.result, outcome.error))
            reply: dict[str, Any] = {"content": [{"type": "text", "text": outcome.content}]}
            if outcome.error is not None:
                reply["is_error"] = True
            return reply

        return handle
