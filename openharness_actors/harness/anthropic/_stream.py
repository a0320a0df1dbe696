"""One streamed reply: a streaming Messages request within the per-attempt timeout
(:func:`stream_reply`), its SSE bytes pumped from the HTTP body in a task of their own and
decoded by :mod:`.._messages_stream` into a turn (:func:`_read_stream`), so an abandoned
stream releases its connection at once; what went wrong comes back as a :class:`_Failure`
(mapped by :mod:`._failures`). It does not build requests, wait for limits or decide
retries."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import anthropic
import trio

from .._messages_stream import SSEDecoder, StreamErrorEvent, TurnAssembler
from .._redact import redact_chain
from ..protocol import EventSink
from ._failures import _Failure, failure_of


async def stream_reply(
    client: anthropic.AsyncAnthropic,
    params: dict[str, Any],
    turn: TurnAssembler,
    emit: EventSink,
    *,
    timeout: float | None,
    redact: Callable[[str], str],
    key: Callable[[], str | None],
) -> _Failure | None:
    """Send one streaming request and read its reply into ``turn``; the failure, if any.

    ``timeout`` bounds the whole attempt, streaming included (``None``: no bound). A stream
    that ends before ``message_stop`` is an ``incomplete_stream`` failure. An exception that
    is no API, stream or transport error propagates, with ``key()`` redacted from its chain.
    """
    failure: _Failure | None = None
    request_id: str | None = None
    try:
        with trio.move_on_after(timeout if timeout is not None else math.inf) as deadline:
            async with client.messages.with_streaming_response.create(
                **params, stream=True
            ) as response:
                request_id = response.request_id
                await _read_stream(response.http_response.aiter_bytes(), turn, emit)
    except Exception as exc:
        failure = failure_of(exc, request_id=request_id, redact=redact)
        if failure is None:
            redact_chain(exc, key())
            raise
    else:
        if deadline.cancelled_caught:
            failure = _Failure(
                "timeout", f"no complete reply within {timeout}s", True, request_id=request_id
            )
        elif not turn.done:
            failure = _Failure(
                "incomplete_stream",
                "the stream ended before message_stop",
                True,
                request_id=request_id,
            )
    return failure


async def _read_stream(body: Any, turn: TurnAssembler, emit: EventSink) -> None:
    """Feed the SSE ``body`` (an async iterator of bytes) into ``turn``, emitting its events.

    A pump task reads the body into an unbounded channel and this task decodes and emits.
    The pump only ever waits inside the HTTP library, so however this ends (error event,
    failed emit, timeout, cancellation) the pump is cancelled there and every layer of the
    HTTP stream closes at once, releasing the connection; reading the body in the same task
    would leave those layers suspended for the garbage collector when the loop body raises.
    """
    chunks, received = trio.open_memory_channel[bytes](math.inf)
    pump_failure: list[Exception] = []
    failure: Exception | None = None
    decoder = SSEDecoder()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_pump, body, chunks, pump_failure)
        try:
            async for chunk in received:
                for name, data in decoder.feed(chunk):
                    if name == "ping" or not data:
                        continue
                    try:
                        event = json.loads(data)
                    except ValueError as exc:
                        raise StreamErrorEvent(
                            "invalid_stream", f"event {name!r} is not JSON"
                        ) from exc
                    for harness_event in turn.feed(event):
                        await emit(harness_event)
        except Exception as exc:
            failure = exc
        nursery.cancel_scope.cancel()
    if failure is None and pump_failure:
        failure = pump_failure[0]
    if failure is not None:
        raise failure


async def _pump(body: Any, chunks: trio.MemorySendChannel[bytes], failure: list[Exception]) -> None:
    async with chunks:
        try:
            async for chunk in body:
                chunks.send_nowait(chunk)
        except Exception as exc:
            failure.append(exc)
