"""Waiting in trio for a Ray result without holding a thread.

:func:`await_ref` uses ``ObjectRef.future()`` (Ray's documented bridge to
``concurrent.futures``): Ray completes the future from its own thread and the callback wakes
the waiting trio task through the run's token, so no thread blocks in ``ray.get``. This module
does not import ``ray``: it only needs an object with a ``future()`` method.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import Future
from typing import Any, Protocol

import trio

__all__ = ["HasFuture", "await_ref"]


class HasFuture(Protocol):
    """A Ray ``ObjectRef``, as far as this module is concerned."""

    def future(self) -> Future[Any]: ...


async def await_ref(ref: HasFuture) -> Any:
    """Return ``ref``'s value once Ray has it (raising its error); cancellable (the remote
    work goes on: cancelling only stops waiting)."""
    future = ref.future()
    token = trio.lowlevel.current_trio_token()
    done = trio.Event()

    def wake(_: Future[Any]) -> None:
        with contextlib.suppress(trio.RunFinishedError):  # nobody is waiting any more
            token.run_sync_soon(done.set)

    future.add_done_callback(wake)
    await done.wait()
    return future.result()
