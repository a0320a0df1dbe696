"""An agent's mailbox: a bounded FIFO with one receiver (the actor) and one waiting sender.

It does what a trio memory channel of the same size does for one receiving task and one task
that may wait to send — ``put`` waits while the mailbox is full, ``get`` waits while it is
empty, a size of 0 hands an item over only to a receiver already waiting — in about a third of
the memory (a run has one per agent, and thousands of runs may share a process) and without a
scheduler round per item: ``get`` returns at once while items are queued, as the actor loop
wants (it never waits on anything but its mailbox).

That is what the engine needs: publishers deliver with ``put_nowait`` (which never waits),
only the broker task waits in ``put``, and only the agent's own actor task takes deliveries
out. Both waits are cancellable; a cancelled ``put`` has queued nothing. ``close`` ends the
receiver's loop at a run's quiescence without cancelling it.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Generic, TypeVar

import trio

__all__ = ["Mailbox"]

T = TypeVar("T")


class Mailbox(Generic[T]):
    """See the module docstring. ``size`` is an integer >= 0 or ``math.inf``."""

    __slots__ = ("_closed", "_items", "_receiver", "_sender", "_size")

    def __init__(self, size: float) -> None:
        self._size = math.inf if size == math.inf else int(size)
        self._items: deque[T] = deque()
        self._receiver: trio.lowlevel.Task | None = None  # parked in get()
        self._sender: trio.lowlevel.Task | None = None  # parked in put(), waiting for room
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> bool:
        """Queue ``item`` if there is room (or a receiver waiting); whether it was queued."""
        receiver = self._receiver
        if receiver is not None:  # the mailbox is empty and its actor waits: hand it over
            self._receiver = None
            self._items.append(item)
            trio.lowlevel.reschedule(receiver)
            return True
        if len(self._items) < self._size:
            self._items.append(item)
            return True
        return False

    async def put(self, item: T) -> None:
        """Queue ``item``, waiting while the mailbox is full (a checkpoint only then)."""
        while not self.put_nowait(item):
            self._sender = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort_put)

    def close(self) -> None:
        """No more items will come: once the queued ones are taken, ``get`` returns ``None``
        (a receiver waiting now is woken). Ending an actor this way, at a run's quiescence,
        costs a third of cancelling its task."""
        self._closed = True
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            trio.lowlevel.reschedule(receiver)

    async def get(self) -> T | None:
        """The next item, waiting while there is none; ``None`` once closed and empty."""
        if not self._items:
            if self._closed:
                return None
            # A size-0 mailbox: a sender may wait for a receiver to arrive; wake it, it hands
            # its item over to us (else both would wait for each other).
            self._wake_sender()
            self._receiver = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort_get)
            if not self._items:
                return None  # closed while waiting
        item = self._items.popleft()
        self._wake_sender()  # room again: the broker retries its put
        return item

    def _wake_sender(self) -> None:
        sender = self._sender
        if sender is not None:
            self._sender = None
            trio.lowlevel.reschedule(sender)

    def _abort_put(self, raise_cancel: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
        self._sender = None
        return trio.lowlevel.Abort.SUCCEEDED

    def _abort_get(self, raise_cancel: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
        self._receiver = None
        return trio.lowlevel.Abort.SUCCEEDED
