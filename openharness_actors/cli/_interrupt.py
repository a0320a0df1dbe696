"""SIGINT and SIGTERM as a clean cancellation of the command's run(s).

While :func:`cancel_on_signals` is open, the first SIGINT or SIGTERM calls ``cancel`` (which
cancels a run handle or a cancel scope) instead of raising ``KeyboardInterrupt`` or killing the
process, so the run ends the way host cancellation ends it: ``workflow:end`` is written and a
recording is finalized as ``cancelled``. The command then exits 130 (SIGINT) or 143
(SIGTERM). Once the block is left, the default handlers are back: a second Ctrl-C during the
(bounded) cleanup interrupts it.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import attrs
import trio

from .._core._nursery import open_quiet_nursery

__all__ = ["Interruption", "cancel_on_signals"]

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@attrs.define
class Interruption:
    """Which signal interrupted the block (``None`` while none has)."""

    signum: int | None = None


@asynccontextmanager
async def cancel_on_signals(cancel: Callable[[], None]) -> AsyncIterator[Interruption]:
    """Call ``cancel()`` on the first SIGINT or SIGTERM received inside the block; see the
    module docstring. Must run in the main thread."""
    interruption = Interruption()
    with trio.open_signal_receiver(*_SIGNALS) as received:
        async with open_quiet_nursery() as nursery:

            async def watch() -> None:
                async for signum in received:
                    if interruption.signum is None:
                        interruption.signum = signum
                        cancel()

            nursery.start_soon(watch)
            try:
                yield interruption
            finally:
                nursery.cancel_scope.cancel()
