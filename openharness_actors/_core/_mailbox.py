"""An agent's mailbox: a bounded FIFO with one sender (the broker) and one receiver (the actor).

It does what a trio memory channel of the same size does for exactly one sending and one
receiving task — ``put`` waits while the mailbox is full, ``get`` waits while it is empty, a
size of 0 hands an item over only to a receiver already waiting — in about a third of the
memory (a run has one per agent, and thousands of runs may share a process) and without a
scheduler round per item: ``get`` returns at once while items are queued, as the actor loop
wants (it never waits on anything but its mailbox).

One sender and one receiver is what the engine needs: only the broker delivers to agents, and
only the agent's own actor task takes deliveries out. Both waits are cancellable; a cancelled
``put`` has queued nothing.
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

    __slots__ = ("_items", "_receiver", "_sender", "_size")

    def __init__(self, size: float) -> None:
        self._size = math.inf if size == math.inf else int(size)
        self._items: deque[T] = deque()
        self._receiver: trio.lowlevel.Task | None = None  # parked in get()
        self._sender: trio.lowlevel.Task | None = None  # parked in put(), waiting for room

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

    async def get(self) -> T:
        """The next item, waiting while there is none."""
        if not self._items:
            # A size-0 mailbox: a sender may wait for a receiver to arrive; wake it, it hands
            # its item over to us (else both would wait for each other).
            self._wake_sender()
            self._receiver = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort_get)
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
