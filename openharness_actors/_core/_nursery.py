"""Internal nurseries that do not leak exception groups.

Trio wraps whatever escapes a nursery in an exception group. Our nurseries are implementation
details, so when exactly one exception escapes (``KeyboardInterrupt``, a run error, a host
``Cancelled``) it is re-raised as itself, keeping its own traceback and cause; several at once
still propagate as a group.
"""

from __future__ import annotations

from types import TracebackType

import trio

__all__ = ["open_quiet_nursery"]


class open_quiet_nursery:  # named like trio.open_nursery, used the same way
    """``trio.open_nursery()``, but a lone escaping exception is raised unwrapped.

    A class rather than an ``@asynccontextmanager`` generator: every run opens one, and the
    generator frame and its wrapper cost memory and time when thousands of runs share a
    process.
    """

    __slots__ = ("_manager",)

    def __init__(self) -> None:
        self._manager = trio.open_nursery()

    async def __aenter__(self) -> trio.Nursery:
        return await self._manager.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        try:
            return await self._manager.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as group:
            if len(group.exceptions) != 1:
                raise
            lone = group.exceptions[0]
            lone.__suppress_context__ = True
            raise lone from lone.__cause__
