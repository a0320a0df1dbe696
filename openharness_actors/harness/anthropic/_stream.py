"""Reading a streamed reply body into a turn: the SSE bytes are pumped from the HTTP body in
a task of their own and decoded by :mod:`.._messages_stream`, so an abandoned stream releases
its connection at once. It does not build requests or decide retries."""

from __future__ import annotations

import json
import math
from typing import Any

import trio

from .._messages_stream import SSEDecoder, StreamErrorEvent, TurnAssembler
from ..protocol import EventSink


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
