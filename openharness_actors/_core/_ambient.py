"""Ambient run observers: signal observers installed for a context instead of passed to runs.

``with observing(fn):`` makes every run prepared inside the block (by ``Workflow.prepare``,
hence ``run_reactive`` and ``Engine.start``) call ``fn(signal)`` for each of its signals, like
the ``observers=`` option: synchronously, in broker order, after the signal is logged and before
it is delivered. Observers must be quick and must not raise. The test kit's
``capture_signals()`` is built on this. The registry is a ``ContextVar``, so it follows trio's
context rules: tasks started inside the block see it, runs prepared elsewhere do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ._signal import Signal

__all__ = ["ambient_observers", "observing"]

SignalObserver = Callable[[Signal], None]

_OBSERVERS: ContextVar[tuple[SignalObserver, ...]] = ContextVar(
    "openharness_actors_ambient_observers", default=()
)


def ambient_observers() -> tuple[SignalObserver, ...]:
    """The observers installed in the current context (innermost last)."""
    return _OBSERVERS.get()


@contextmanager
def observing(observer: SignalObserver) -> Iterator[None]:
    """Install ``observer`` for the runs prepared inside the ``with`` block."""
    token = _OBSERVERS.set((*_OBSERVERS.get(), observer))
    try:
        yield
    finally:
        _OBSERVERS.reset(token)
