"""The broker: the one task that numbers signals, logs them and routes them.

Publishers hand drafts (id, name, payload, source) to the broker's bounded inbox, which gives
producers backpressure. For each draft the broker assigns ``seq`` and ``timestamp``, appends the
signal to the log, hands it to the recording observers (recorded before delivered), then
delivers it to the mailboxes of the agents the routing index names and, if reducers match, to
the state actor.

Why it cannot deadlock: the broker waits only on its inbox and on agent mailboxes. Agent actors
drain their mailboxes without ever waiting on the broker, and the state actor's mailbox is
unbounded (its entries are activations waiting for a commit, bounded by concurrency, or
references to already-logged signals), so no cycle of waits exists.

The broker never touches state and never calls a harness.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from ._signal import Signal, SignalSource, new_signal_id

if TYPE_CHECKING:
    from ._run import RunCore

__all__ = ["Broker", "Draft"]

Draft = tuple[str, str, dict[str, Any], SignalSource]

EAGER_BELOW = 16
"""A publish yields to the scheduler only when at least this many drafts wait in the inbox."""


class Broker:
    """Numbers, logs and routes the signals of one run."""

    def __init__(self, core: RunCore, inbox_size: int) -> None:
        self._core = core
        self._send, self._receive = trio.open_memory_channel[Draft](inbox_size)
        self._queued = 0  # drafts in the inbox
        self.observers: list[Callable[[Signal], None]] = []
        self.check: Callable[[str, dict[str, Any], str | None], None] | None = None
        """Called on every published payload when set (a recorder sets it to refuse values
        it cannot store, see ``_storable``); raising refuses the publish."""

    async def publish(self, name: str, payload: dict[str, Any], source: SignalSource) -> str:
        """Queue a signal for the broker and return its id.

        Blocks while the inbox is full (backpressure). Always a cancellation point; a
        scheduling point only when the broker is behind (``EAGER_BELOW`` drafts or more
        waiting): while it keeps up, yielding after every signal of an activation would only
        add a scheduler round per signal. Atomic under cancellation: either the draft is
        queued, or nothing happened. Raises what ``check`` raises (nothing queued).
        """
        if self.check is not None:
            self.check(name, payload, source.agent)
        signal_id = new_signal_id()
        work = self._core.work
        work.add()
        draft = (signal_id, name, payload, source)
        self._queued += 1
        try:
            if self._queued <= EAGER_BELOW:
                await trio.lowlevel.checkpoint_if_cancelled()
                try:
                    self._send.send_nowait(draft)
                except trio.WouldBlock:  # an inbox smaller than EAGER_BELOW
                    await self._send.send(draft)
            else:
                await self._send.send(draft)
        except BaseException:
            self._queued -= 1
            work.done()
            raise
        return signal_id

    async def run(self) -> None:
        """The broker task: route drafts until cancelled."""
        core = self._core
        table = core.routing
        mailboxes = core.mailboxes
        reduce = core.state_actor.deliver
        work = core.work
        receive = self._receive
        while True:
            draft = await receive.receive()
            self._queued -= 1
            signal = self._log(draft)
            route = table.route(signal.name)
            for index in route.agents:
                work.add()
                mailbox = mailboxes[index]
                try:
                    mailbox.send_nowait(signal)
                except trio.WouldBlock:
                    await mailbox.send(signal)
            if route.reducers:
                work.add()
                reduce(signal, route.reducers)
            work.done()

    def _log(self, draft: Draft) -> Signal:
        signal_id, name, payload, source = draft
        log = self._core.log
        signal = Signal(signal_id, name, payload, time.time(), len(log), self._core.run_id, source)
        log.append(signal)
        for observe in self.observers:
            observe(signal)
        return signal

    @property
    def counts(self) -> Counter[str]:
        """How many signals of each name the log holds (counted when asked: it is read once
        per run, while counting as signals pass would cost every signal)."""
        return Counter(signal.name for signal in self._core.log)

    def log_now(self, name: str, payload: dict[str, Any], source: SignalSource) -> Signal:
        """Number and log a signal without routing it (final signals after the tasks stop)."""
        return self._log((new_signal_id(), name, payload, source))

    def drain(self) -> int:
        """Log every draft still queued, without routing (the run is over); returns how many."""
        drained = 0
        while True:
            try:
                draft = self._receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return drained
            self._queued -= 1
            self._log(draft)
            drained += 1
