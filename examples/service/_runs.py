"""The runs started through ``POST /runs``: one long-lived engine, the runs by id, retention.

A :class:`RunBook` owns an :class:`Engine` opened for the life of the service (the ASGI
lifespan opens it with :meth:`RunBook.open`), the runs started on it, keyed by run id and
owned by the API key that started them, and what becomes of them:

* **Status.** ``running`` while the run works, ``waiting`` while it waits for an external
  signal (``RunHandle.waiting``), then its final status (``completed``, ``terminated``,
  ``failed``, ``timeout``, ``cancelled``).
* **Retention.** A finished run is kept for ``keep_for`` seconds, and only the last ``keep``
  finished runs are: past either it is forgotten (an unknown id). Live runs (running or
  waiting) are never forgotten; at most ``max_live`` may be live at once (:attr:`full`).
* **Shutdown.** :meth:`begin_shutdown` cancels the waiting runs at once (no signal can reach
  them once the service refuses requests) and gives the others until the requests' grace is
  up; leaving :meth:`open` cancels whatever is left. Runs live in memory only: a restarted
  service knows none of them (a journaled run suspended with ``on_wait="suspend"`` is how a
  run outlives its process).

This module knows no HTTP: the endpoints are ``_runs_api``'s.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import attrs
import trio

from openharness_actors import (
    Engine,
    Reporter,
    RunHandle,
    Workflow,
    WorkflowResult,
    open_engine,
)

__all__ = ["RunBook", "TrackedRun"]


@attrs.define(eq=False)
class TrackedRun:
    """A run in the book: its handle, the key id that owns it, and how it ended."""

    handle: RunHandle[Any]
    owner: str
    deadline: trio.CancelScope = attrs.field(factory=trio.CancelScope)
    """Cancels the run when it is up (set at shutdown)."""
    outcome: WorkflowResult[Any] | Exception | None = None
    """The result, or the error that ended the run; ``None`` while it is live."""
    ended_at: float | None = None
    """When it ended (the book's clock), once it has."""

    @property
    def run_id(self) -> str:
        return self.handle.run_id

    async def settled(self) -> WorkflowResult[Any] | Exception:
        """Wait for the run to end; its result, or the error that ended it (kept as
        :attr:`outcome`, never raised)."""
        if self.outcome is None:
            try:
                self.outcome = await self.handle.result()
            except Exception as exc:
                self.outcome = exc
        return self.outcome

    @property
    def status(self) -> str:
        """``running``, ``waiting``, or the final status once the run has ended."""
        if self.handle.done:
            return self.handle.status
        return "waiting" if self.handle.waiting else "running"


class RunBook:
    """Runs on one long-lived engine, by id; see the module docstring.

    ``clock`` returns seconds (``trio.current_time`` by default) and dates the ends of runs
    for ``keep_for``.
    """

    def __init__(
        self,
        *,
        max_live: int,
        keep: int,
        keep_for: float,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if max_live < 1 or keep < 0 or keep_for < 0:
            raise ValueError(
                f"runs: at least 1 live run (max_runs={max_live}) and no negative retention "
                f"(keep_finished={keep}, keep_finished_for={keep_for}) are needed"
            )
        self._max_live = max_live
        self._keep = keep
        self._keep_for = keep_for
        self._clock = clock or trio.current_time
        self._runs: dict[str, TrackedRun] = {}
        self._finished: deque[tuple[float, TrackedRun]] = deque()  # (ended at, run), in order
        self._engine: Engine | None = None
        self._nursery: trio.Nursery | None = None
        self._closing = False

    @asynccontextmanager
    async def open(self, *, reporters: Sequence[Reporter] = ()) -> AsyncIterator[RunBook]:
        """Open the engine (``reporters`` watch every run) for the block; leaving it cancels
        the runs still live and waits for them."""
        async with open_engine(reporters=reporters) as engine, trio.open_nursery() as nursery:
            self._engine, self._nursery = engine, nursery
            try:
                yield self
            finally:
                self._engine = self._nursery = None
                engine.cancel_all()

    @property
    def available(self) -> bool:
        """Whether runs can be started: the book is open and no shutdown has begun."""
        return self._engine is not None and not self._closing

    @property
    def live(self) -> int:
        """How many runs are running or waiting."""
        return sum(not tracked.handle.done for tracked in self._runs.values())

    @property
    def full(self) -> bool:
        """Whether ``max_live`` runs are live (no other may start)."""
        return self.live >= self._max_live

    async def start(self, owner: str, workflow: Workflow[Any], **options: Any) -> TrackedRun:
        """Start a run of ``workflow`` owned by ``owner`` (``options`` as for
        ``Engine.start``). Raises ``RuntimeError`` when not :attr:`available` and what
        ``Engine.start`` raises (a definition error)."""
        engine, nursery = self._engine, self._nursery
        if engine is None or nursery is None or not self.available:
            raise RuntimeError("the run book is closed")
        handle = await engine.start(workflow, **options)
        tracked = TrackedRun(handle, owner)
        self._runs[tracked.run_id] = tracked
        nursery.start_soon(self._watch, tracked)
        return tracked

    def get(self, run_id: str, owner: str) -> TrackedRun | None:
        """The run ``run_id`` if ``owner`` started it and it is not forgotten, else ``None``
        (another key's run is as unknown as a run that never was)."""
        self._forget_expired()
        tracked = self._runs.get(run_id)
        return tracked if tracked is not None and tracked.owner == owner else None

    def begin_shutdown(self, answer_by: float) -> None:
        """Cancel the waiting runs now and the others at ``answer_by`` (trio time); no run
        starts after this."""
        self._closing = True
        for tracked in list(self._runs.values()):
            if tracked.outcome is None:
                if tracked.handle.waiting:
                    tracked.handle.cancel()
                tracked.deadline.deadline = min(tracked.deadline.deadline, answer_by)

    async def _watch(self, tracked: TrackedRun) -> None:
        """Wait for the run (cancelling it if its deadline comes first), then keep its
        outcome and date its end for retention."""
        handle = tracked.handle
        with tracked.deadline:
            await handle.wait()
        if not handle.done:
            handle.cancel()
            await handle.wait()
        await tracked.settled()
        tracked.ended_at = self._clock()
        self._finished.append((tracked.ended_at, tracked))
        self._forget_expired()

    def _forget_expired(self) -> None:
        now = self._clock()
        finished = self._finished
        while finished and (len(finished) > self._keep or now - finished[0][0] >= self._keep_for):
            del self._runs[finished.popleft()[1].run_id]
