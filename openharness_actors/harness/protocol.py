"""The harness seam: one request in, a stream of events and one result out.

A harness turns a :class:`HarnessRequest` into events (text and thinking deltas, tool calls and
results, retries) that it passes to ``emit`` as they happen, and returns a
:class:`HarnessResult`. The engine wraps each event into a signal (``harness:start`` and
``harness:end``/``harness:error`` are the engine's). ``emit`` applies backpressure: it returns
once the event is in the broker's inbox. Harnesses never touch workflow state.

Anthropic, scripted, function and replay harnesses are peers behind this protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

import attrs

from .._core._usage import Usage

__all__ = [
    "EventSink",
    "Harness",
    "HarnessEvent",
    "HarnessRequest",
    "HarnessResult",
    "HarnessRetry",
    "TextComplete",
    "TextDelta",
    "ThinkingComplete",
    "ThinkingDelta",
    "ToolCall",
    "ToolResult",
]


@attrs.frozen(slots=True)
class HarnessRequest:
    """What one activation asks of a harness.

    ``prompt`` is the rendered user message, ``system`` the rendered system prompt (or
    ``None``), ``model`` the agent's model override (``None``: the harness default), ``tools``
    the agent's Python callables, ``output`` the type the reply must structure into (the
    harness may use it to ask for JSON). ``activation_id`` is the id of the ``agent:activated``
    signal, the parent of every signal the call produces.
    """

    agent: str
    prompt: str
    run_id: str
    activation_id: str = ""
    system: str | None = None
    model: str | None = None
    tools: tuple[Callable[..., Any], ...] = ()
    output: type[Any] | None = None


@attrs.frozen(slots=True)
class HarnessResult:
    """The outcome of one harness call: the reply text and what it cost.

    ``cost_usd`` is the harness's estimate of the call's price, when it knows one.
    """

    output: str
    usage: Usage = Usage()
    stop_reason: str | None = None
    model: str | None = None
    cost_usd: float | None = None


class HarnessEvent(Protocol):
    """An event a harness reports while it runs; ``signal_name`` is the signal it becomes."""

    signal_name: ClassVar[str]

    def payload(self) -> dict[str, Any]:
        """The signal payload (JSON-compatible)."""
        ...


@attrs.frozen(slots=True)
class TextDelta:
    """A chunk of reply text (``text:delta``)."""

    signal_name: ClassVar[str] = "text:delta"
    content: str

    def payload(self) -> dict[str, Any]:
        return {"content": self.content}


@attrs.frozen(slots=True)
class TextComplete:
    """A finished text block (``text:complete``)."""

    signal_name: ClassVar[str] = "text:complete"
    content: str

    def payload(self) -> dict[str, Any]:
        return {"content": self.content}


@attrs.frozen(slots=True)
class ThinkingDelta:
    """A chunk of reasoning (``thinking:delta``)."""

    signal_name: ClassVar[str] = "thinking:delta"
    content: str

    def payload(self) -> dict[str, Any]:
        return {"content": self.content}


@attrs.frozen(slots=True)
class ThinkingComplete:
    """A finished reasoning block (``thinking:complete``)."""

    signal_name: ClassVar[str] = "thinking:complete"
    content: str

    def payload(self) -> dict[str, Any]:
        return {"content": self.content}


@attrs.frozen(slots=True)
class ToolCall:
    """The model asked to run tool ``name`` with ``input`` (``tool:call``)."""

    signal_name: ClassVar[str] = "tool:call"
    id: str
    name: str
    input: Mapping[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "input": dict(self.input)}


@attrs.frozen(slots=True)
class ToolResult:
    """A tool finished: ``result`` (JSON-compatible) or ``error`` text (``tool:result``)."""

    signal_name: ClassVar[str] = "tool:result"
    id: str
    name: str
    result: Any = None
    error: str | None = None

    def payload(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "result": self.result, "error": self.error}


@attrs.frozen(slots=True)
class HarnessRetry:
    """A failed attempt that will be retried after ``delay`` seconds (``harness:retry``)."""

    signal_name: ClassVar[str] = "harness:retry"
    attempt: int
    delay: float
    code: str
    message: str

    def payload(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "delay": self.delay,
            "code": self.code,
            "message": self.message,
        }


EventSink = Callable[[HarnessEvent], Awaitable[None]]
"""``await emit(event)`` publishes ``event`` as a signal (with backpressure)."""


@runtime_checkable
class Harness(Protocol):
    """What the engine needs from a harness.

    ``name`` labels the signals it produces (``Signal.source.harness``). ``preflight`` runs once
    per run before any signal is published and raises
    :class:`~openharness_actors.WorkflowDefinitionError` when the harness cannot work (for
    example no API key). ``run`` performs one call; it raises
    :class:`~openharness_actors.HarnessError` on failure and must stop promptly when cancelled.
    """

    name: str

    def preflight(self) -> None: ...

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult: ...
