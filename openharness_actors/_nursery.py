"""Internal nurseries that do not leak exception groups.

Trio wraps whatever escapes a nursery in an exception group. Our nurseries are implementation
details, so when exactly one exception escapes (``KeyboardInterrupt``, a run error, a host
``Cancelled``) it is re-raised as itself, keeping its own traceback and cause; several at once
still propagate as a group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

__all__ = ["open_quiet_nursery"]


@asynccontextmanager
async def open_quiet_nursery() -> AsyncIterator[trio.Nursery]:
    """``trio.open_nursery()``, but a lone escaping exception is raised unwrapped."""
    try:
        async with trio.open_nursery() as nursery:
            yield nursery
    except BaseExceptionGroup as group:
        if len(group.exceptions) != 1:
            raise
        lone = group.exceptions[0]
        lone.__suppress_context__ = True
        raise lone from lone.__cause__
