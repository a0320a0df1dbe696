"""CLI processes: starting one, resetting it between activations, closing it, and the pool of
idle ones a harness reuses within one trio run.

A :class:`Session` is one connected ``ClaudeSDKClient`` (one ``claude`` process, about 200 MB)
started for a :class:`CallShape`: the agent, its rendered system prompt, model, tools and
output schema are fixed when the process starts. Reuse is safe because a reused process
serves only requests of the same shape, one at a time, and starts each activation with a
fresh conversation (``/clear``, a local command of the CLI: no API call). A process whose call
failed or was cancelled is never reused: it is interrupted and closed.

:class:`SessionPool` keeps idle sessions by shape for the trio run that started them (the SDK's
reader tasks live in that run). A system task closes whatever is still idle when the run
ends, so no ``claude`` process outlives the run even without :meth:`ClaudeCodeHarness.aclose`.
This module never translates messages or maps errors.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import trio

from ._bridge import ToolBridge
from ._options import CallShape

__all__ = ["CLOSE_TIMEOUT", "Session", "SessionPool"]

CLOSE_TIMEOUT = 5.0
"""Seconds an interrupt plus close may take before the process is left to the SDK's kill."""


class Session:
    """One connected CLI process."""

    def __init__(self, shape: CallShape, client: Any, bridge: ToolBridge | None) -> None:
        self.shape = shape
        self.client = client
        self.bridge = bridge
        self.calls = 0
        self.closed = False
        # One message iterator for the process's whole life: an SDK generator abandoned
        # between calls would be finalized by the garbage collector (trio warns of that).
        self._messages: AsyncIterator[Any] = client.receive_messages()

    @classmethod
    async def start(
        cls, sdk: Any, shape: CallShape, options: Any, bridge: ToolBridge | None
    ) -> Session:
        """Start and connect a CLI process with ``options``."""
        client = sdk.ClaudeSDKClient(options)
        try:
            await client.connect()
        except BaseException:  # failed or cancelled while starting: leave no process behind
            with (
                trio.CancelScope(shield=True),
                trio.move_on_after(CLOSE_TIMEOUT),
                contextlib.suppress(Exception),
            ):
                await client.disconnect()
            raise
        return cls(shape, client, bridge)

    async def exchange(
        self, prompt: str, on_message: Callable[[Any], Awaitable[None]] | None = None
    ) -> None:
        """Send ``prompt`` and pass every message to ``on_message`` up to and including the
        ``ResultMessage``; returns early (without error) if the process's stream ends."""
        await self.client.query(prompt)
        while True:
            try:
                message = await self._messages.__anext__()
            except StopAsyncIteration:
                return
            if on_message is not None:
                await on_message(message)
            if type(message).__name__ == "ResultMessage":
                return

    async def reset(self) -> None:
        """Start a fresh conversation (``/clear``) in this process."""
        await self.exchange("/clear")

    async def close(self, *, interrupt: bool = False) -> None:
        """Interrupt the current turn (when ``interrupt``), then end the process; shielded
        from cancellation and bounded by :data:`CLOSE_TIMEOUT`."""
        if self.closed:
            return
        self.closed = True
        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT):
            # the process may already be gone: closing is what matters, not how it went
            if interrupt:
                with contextlib.suppress(Exception), trio.move_on_after(CLOSE_TIMEOUT / 2):
                    await self.client.interrupt()
                    # Read the interrupted turn to its end, so that the CLI is idle (writes
                    # nothing more) when the SDK closes: a message arriving while it closes
                    # leaves the SDK's stdout reader to the garbage collector.
                    await self._drain(until_result=True)
            with contextlib.suppress(Exception):
                await self.client.disconnect()
            with contextlib.suppress(Exception):  # the stream ended: let the iterator finish
                await self._drain(until_result=False)

    async def _drain(self, *, until_result: bool) -> None:
        """Read messages up to the next ``ResultMessage`` (``until_result``), else to the end
        of the stream (``StopAsyncIteration`` ends it there)."""
        try:
            message = await self._messages.__anext__()
        except StopAsyncIteration:
            if not until_result:
                return
            # the call's cancellation ended the call's iterator: read on with a new one
            self._messages = self.client.receive_messages()
            message = await self._messages.__anext__()
        while not (until_result and type(message).__name__ == "ResultMessage"):
            message = await self._messages.__anext__()


class SessionPool:
    """Idle sessions by shape, for the trio run that started them."""

    def __init__(self) -> None:
        self._idle: dict[CallShape, list[Session]] = {}
        self._run: trio.lowlevel.TrioToken | None = None
        self.started = 0
        self.reused = 0

    def take(self, shape: CallShape) -> Session | None:
        """An idle session of ``shape`` from this run, if there is one (removed from the pool)."""
        if self._run is not trio.lowlevel.current_trio_token():
            self._idle = {}  # sessions of an earlier run died with it
            return None
        idle = self._idle.get(shape)
        if not idle:
            return None
        self.reused += 1
        return idle.pop()

    def give_back(self, session: Session) -> None:
        """Keep ``session`` for a later request of its shape."""
        token = trio.lowlevel.current_trio_token()
        if self._run is not token:
            self._idle = {}
            self._run = token
            trio.lowlevel.spawn_system_task(self._close_at_run_end, self._idle)
        self._idle.setdefault(session.shape, []).append(session)

    def idle_count(self) -> int:
        """Idle sessions now."""
        if self._run is None:
            return 0
        return sum(len(sessions) for sessions in self._idle.values())

    async def aclose(self) -> None:
        """Close every idle session now."""
        await _close_all(self._idle)

    async def _close_at_run_end(self, idle: dict[CallShape, list[Session]]) -> None:
        try:
            await trio.sleep_forever()
        finally:
            await _close_all(idle)


async def _close_all(idle: dict[CallShape, list[Session]]) -> None:
    sessions = [session for group in idle.values() for session in group]
    idle.clear()
    if not sessions:
        return
    with trio.CancelScope(shield=True):
        async with trio.open_nursery() as nursery:
            for session in sessions:
                nursery.start_soon(session.close)
