"""What the fake Messages API answers: reply values (text, tool use, HTTP errors, stream
errors, dropped and stalled streams) and their builders. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..._core._usage import Usage


@attrs.frozen
class FakeToolUse:
    """A ``tool_use`` block: the model asks to run ``name`` with ``input`` (``id`` generated
    as ``toolu_fake_<n>`` when ``None``)."""

    name: str
    input: Mapping[str, Any] = attrs.field(factory=dict)
    id: str | None = None


@attrs.frozen
class FakeReply:
    """What the server answers to one request.

    Content comes in the model's order: ``thinking`` (with ``signature``), ``text``, then
    ``tool_uses``; ``stop_reason`` defaults to ``"tool_use"`` when there are tool uses and
    ``"end_turn"`` otherwise; ``usage`` defaults to an estimate. ``status`` other than 200
    answers with an error body of ``error_type`` (default: the usual type for the status),
    plus a ``retry-after`` header when ``retry_after`` is set. ``fail_after_events`` sends that
    many stream events then an ``error`` event of ``error_type`` (default
    ``overloaded_error``); ``stall_after_events`` sends that many then waits until the client
    disconnects; ``drop_after_events`` sends that many then closes the connection without
    ending the response. ``latency``, ``event_delay`` and ``chunk_size`` (characters per delta) fall
    back to the server's defaults when ``None``.
    """

    text: str = ""
    thinking: str | None = None
    signature: str = "fake-signature"
    tool_uses: tuple[FakeToolUse, ...] = ()
    stop_reason: str | None = None
    usage: Usage | None = None
    status: int = 200
    error_type: str | None = None
    error_message: str = "fake error"
    retry_after: float | None = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    fail_after_events: int | None = None
    stall_after_events: int | None = None
    drop_after_events: int | None = None
    latency: float | None = None
    event_delay: float | None = None
    chunk_size: int | None = None


def text_reply(text: str, **options: Any) -> FakeReply:
    """A plain text answer (``options`` are :class:`FakeReply` fields)."""
    return FakeReply(text=text, **options)


def tool_use_reply(
    *uses: FakeToolUse | tuple[str, Mapping[str, Any]], text: str = "", **options: Any
) -> FakeReply:
    """An answer asking for tools: each use is a :class:`FakeToolUse` or ``(name, input)``."""
    blocks = tuple(use if isinstance(use, FakeToolUse) else FakeToolUse(*use) for use in uses)
    return FakeReply(text=text, tool_uses=blocks, **options)


def http_error(
    status: int,
    error_type: str | None = None,
    *,
    message: str = "fake error",
    retry_after: float | None = None,
    **options: Any,
) -> FakeReply:
    """An HTTP error answer (``status`` >= 400), with ``retry-after`` when given."""
    return FakeReply(
        status=status,
        error_type=error_type,
        error_message=message,
        retry_after=retry_after,
        **options,
    )


def stream_error(
    after_events: int = 3,
    error_type: str = "overloaded_error",
    *,
    text: str = "partial",
    **options: Any,
) -> FakeReply:
    """A stream that sends ``after_events`` events of a ``text`` answer, then an ``error``
    event (HTTP status 200, as the real API does once streaming has begun)."""
    return FakeReply(text=text, fail_after_events=after_events, error_type=error_type, **options)


def dropped_reply(after_events: int = 3, *, text: str = "partial", **options: Any) -> FakeReply:
    """A stream that sends ``after_events`` events, then drops the connection mid-response."""
    return FakeReply(text=text, drop_after_events=after_events, **options)


def stalled_reply(after_events: int = 3, *, text: str = "partial", **options: Any) -> FakeReply:
    """A stream that sends ``after_events`` events, then nothing until the client goes away."""
    return FakeReply(text=text, stall_after_events=after_events, **options)


DEFAULT_REPLY = FakeReply(text="Hello from the fake Messages API.")
"""What the server answers when nothing else is scripted."""
