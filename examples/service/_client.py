"""The other side of the service's HTTP: a minimal client, enough for the self-test.

One request per connection, read to the end (:func:`http_request`) or event by event
(:func:`http_events`); no reuse, no TLS. The tests use httpx.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import trio

__all__ = ["http_events", "http_request"]


async def http_request(
    host: str,
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """A minimal HTTP/1.1 client (one request per connection), enough for the self-test."""
    payload = b"" if body is None else json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1", f"host: {host}:{port}", "connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None:
        lines += ["content-type: application/json", f"content-length: {len(payload)}"]
    stream = await trio.open_tcp_stream(host, port)
    async with stream:
        await stream.send_all("\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
        received = bytearray()
        while chunk := await stream.receive_some(65536):
            received += chunk
    head, _, rest = bytes(received).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        rest = _dechunk(rest)
    return status, rest.decode()


async def http_events(
    host: str,
    port: int,
    path: str,
    headers: Mapping[str, str],
    on_event: Callable[[str, Any], Awaitable[None]],
) -> int:
    """``GET`` an event stream and await ``on_event(name, data)`` for each event as it
    arrives, until the server ends the stream; returns the status. Speaks HTTP/1.0, so the
    body comes unchunked; enough for the self-test."""
    lines = [f"GET {path} HTTP/1.0", f"host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    stream = await trio.open_tcp_stream(host, port)
    status = 0
    async with stream:
        await stream.send_all("\r\n".join(lines).encode() + b"\r\n\r\n")
        buffer = b""
        while chunk := await stream.receive_some(65536):
            buffer += chunk
            if not status:
                if b"\r\n\r\n" not in buffer:
                    continue
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
            while status == 200 and b"\n\n" in buffer:
                block, _, buffer = buffer.partition(b"\n\n")
                fields = dict(line.split(": ", 1) for line in block.decode().splitlines())
                await on_event(fields["event"], json.loads(fields["data"]))
    return status


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)
