"""The broker: numbers signals, logs them and routes them.

For each draft (id, name, payload, source, attachment) the broker lets its attachment admit it
(:mod:`._control`), assigns ``seq`` and ``timestamp``, appends the signal to the log, hands it
to the observers (recording: recorded before delivered), lets the attachment act (commit,
terminate, fail: control happens at its place in the log), then delivers it — with the state
as of that place in the log — to the mailboxes of the agents the routing index names and, if
reducers match, to the state actor.

Where that work runs: trio runs one task at a time, so in a live run the publishing task does
it itself, synchronously, as long as the broker has nothing queued — a task switch per signal
would be most of a signal's cost. The broker task takes over when a mailbox is full: it waits
for room and delivers, and until it has caught up every publisher queues its draft in the
broker's bounded inbox (backpressure), so deliveries keep log order. When the run follows a
recorded schedule (replay, resume) the broker task does all of it and holds drafts back to
log them in the recorded order (:class:`~._schedule.ScheduleFollower`).

Why it cannot deadlock: publishers never wait on a mailbox, and the broker task waits only on
its inbox and on agent mailboxes. Agent actors drain their mailboxes without ever waiting on
the broker, and the state actor's mailbox is unbounded (its entries are routed signals waiting
to be applied), so no cycle of waits exists.

The broker never touches state and never calls a harness.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import trio

from ._control import Attachment, Changed, Terminating
from ._signal import Signal, SignalSource, new_signal_id

if TYPE_CHECKING:
    from ._run import RunCore
    from ._schedule import ScheduleFollower

__all__ = ["Broker", "Draft"]

Draft = tuple[str, str, dict[str, Any], SignalSource, Attachment | None]
Delivery = tuple[Signal, Any]

_WAKE: Any = object()
"""Put in the inbox to wake the broker task for stalled deliveries (never a draft)."""


class Broker:
    """Numbers, logs and routes the signals of one run."""

    def __init__(self, run: RunCore, inbox_size: int) -> None:
        self._run = run
        self._work = run.work
        # Annotated rather than subscripted: ``open_memory_channel[T]`` builds a generic alias
        # on every call, and every run makes one of these (and one mailbox per agent).
        channel: tuple[trio.MemorySendChannel[Draft], trio.MemoryReceiveChannel[Draft]]
        channel = trio.open_memory_channel(inbox_size)
        self._send, self._receive = channel
        self.observers: list[Callable[[Signal], None]] = []
        self.generated: list[Draft] = []  # rarely used: a list is a tenth of an empty deque
        """Drafts the supervisor makes while a signal is logged (``agent:restarted``): they
        are logged right after it, before the next draft of the inbox."""
        self._follower: ScheduleFollower | None = None
        self.check: Callable[[str, dict[str, Any], str | None], None] | None = None
        """Called on every published payload when set (a recorder's declared
        ``store_check``: it refuses values the store cannot hold, see ``_storable``);
        raising refuses the publish."""
        self._waiters: dict[str, trio.Event] = {}
        self._direct = True
        """Whether publishers log and route themselves (a live run whose broker task has
        nothing queued); see :meth:`publish`."""
        self._stalled: list[tuple[int, Delivery] | None] = []  # rare: a list, not a deque
        """Deliveries a publisher could not make (a full mailbox), for the broker task;
        ``None`` stands for what the publisher raised (:attr:`_crash`)."""
        self._crash: BaseException | None = None
        self._stopped = False

    async def publish(
        self,
        name: str,
        payload: dict[str, Any],
        source: SignalSource,
        extra: Attachment | None = None,
        signal_id: str | None = None,
    ) -> str:
        """Publish a signal and return its id.

        In a live run whose broker has nothing queued, the signal is numbered, logged and
        routed right here, in the publishing task (trio runs one task at a time, so this is
        the broker's work done without a task switch); otherwise the draft joins the
        broker's inbox, behind what is queued, and this blocks while the inbox is full
        (backpressure). Either way the log's order is the order of publishing. Always a
        cancellation point, and a scheduling point only when it blocks. Atomic under
        cancellation: either the signal is published, or nothing happened. Raises what
        ``check`` raises (nothing published).
        """
        if self.check is not None:
            self.check(name, payload, source.agent)
        if signal_id is None:
            signal_id = new_signal_id()
        work = self._work
        work.add()
        draft = (signal_id, name, payload, source, extra)
        try:
            await trio.lowlevel.checkpoint_if_cancelled()
            if self._direct:
                self._publish_now(draft)
                return signal_id
            try:
                self._send.send_nowait(draft)
            except trio.WouldBlock:
                await self._send.send(draft)
        except BaseException:
            work.done()
            raise
        return signal_id

    def _publish_now(self, draft: Draft) -> None:
        """Log and route ``draft`` (and what logging it generates) in the calling task.

        Deliveries go in without waiting; the first mailbox that is full stalls the rest:
        they are handed to the broker task, which waits for room, and every publish goes
        through its inbox until it has delivered them (so deliveries stay in log order).
        Whatever this raises is raised by the broker task instead, as if it had run there.
        """
        stalled = self._stalled
        try:
            self._log_and_route(draft)
        except BaseException as exc:
            self._crash = exc
            stalled.append(None)
        if stalled:
            self._direct = False
            self._send.send_nowait(_WAKE)  # the inbox is empty: there is room

    def _log_and_route(self, draft: Draft) -> None:
        """Log ``draft`` and the drafts logging it generates, routing each without waiting."""
        generated = self.generated
        work = self._work
        while True:
            signal = self._log(draft)
            if signal is not None:
                self._route_now(signal)
            work.done()
            if not generated:
                return
            draft = generated.pop(0)

    def _route_now(self, signal: Signal) -> None:
        """Deliver ``signal`` with the state as of its place in the log; a delivery to a full
        mailbox, and every delivery after it, waits in :attr:`_stalled` (see :meth:`_flush`)."""
        run = self._run
        work = self._work
        route = run.routing.route(signal.name)
        if route.agents:
            delivery = (signal, run.log_state)
            mailboxes = run.mailboxes
            stalled = self._stalled
            for index in route.agents:
                work.add()
                if stalled or not mailboxes[index].put_nowait(delivery):
                    stalled.append((index, delivery))
        if route.reducers:
            work.add()
            run.state_actor.deliver(signal, route.reducers)

    async def _flush(self) -> None:
        """Make the stalled deliveries, in order, waiting for room (the broker task only);
        raises what a publisher's routing raised, at its place."""
        stalled = self._stalled
        mailboxes = self._run.mailboxes
        while stalled:
            entry = stalled.pop(0)
            if entry is None:
                crash, self._crash = self._crash, None
                assert crash is not None
                raise crash
            index, delivery = entry
            await mailboxes[index].put(delivery)

    @property
    def caught_up(self) -> bool:
        """Whether publishers route their own signals now (a live run whose broker task has
        nothing queued, nothing stalled): then :meth:`stop` may end the task."""
        return self._direct and not self._stalled

    def stop(self) -> None:
        """End the broker task once it takes the wake-up (only when :attr:`caught_up`). A
        publish that comes later queues in the inbox, which :meth:`drain` logs unrouted."""
        self._stopped = True
        self._direct = False
        self._send.send_nowait(_WAKE)

    @property
    def follower(self) -> ScheduleFollower | None:
        """The recorded schedule this run follows (replay, resume), if any: the broker task
        then logs every draft, in the recorded order."""
        return self._follower

    @follower.setter
    def follower(self, follower: ScheduleFollower | None) -> None:
        self._follower = follower
        self._direct = follower is None

    def generate(
        self,
        name: str,
        payload: dict[str, Any],
        source: SignalSource,
        extra: Attachment | None = None,
    ) -> None:
        """Queue a draft made while a signal is being logged (see :attr:`generated`)."""
        self._run.work.add()
        self.generated.append((new_signal_id(), name, payload, source, extra))

    async def run(self) -> None:
        """The broker task: route what publishers could not route themselves (a full
        mailbox), and every draft queued behind it, until cancelled or stopped."""
        if self.follower is not None:
            await self._run_following(self.follower)
            return
        receive = self._receive.receive
        receive_nowait = self._receive.receive_nowait
        stalled = self._stalled
        while True:
            # Take what is queued without a scheduler round per draft (receive() always
            # yields); park only when the inbox is empty, handing routing back to the
            # publishers. The loop cannot starve anyone: no publisher runs while it does, so
            # it ends when the inbox is drained.
            try:
                draft = receive_nowait()
            except trio.WouldBlock:
                draft = None  # (not awaited in the handler: that would keep the exception)
            if draft is None:
                self._direct = True
                draft = await receive()
            if draft is not _WAKE:
                self._log_and_route(draft)
            elif self._stopped:
                return
            if stalled:
                await self._flush()

    async def _run_following(self, follower: ScheduleFollower) -> None:
        run = self._run
        work = run.work
        receive = self._receive
        while True:
            draft = await receive.receive()
            work.stalled = False
            follower.hold(draft)
            while True:
                while self.generated:
                    follower.hold(self.generated.pop(0))
                ready = follower.take_next(run)
                if ready is None:
                    break
                for _ in follower.take_dropped():
                    work.done()  # a dropped draft's unit of work
                signal = self._log(ready)
                if signal is not None:
                    follower.logged(signal)
                    if follower.divergence is not None and not run.failed:
                        run.fail(follower.divergence)  # replay stops at the first difference
                    waiter = self._waiters.pop(signal.id, None)
                    if waiter is not None:
                        # The waiting task runs again: its unit is no longer held.
                        follower.lent -= 1
                        work.floor = follower.held + follower.lent
                        waiter.set()
                    self._route_now(signal)
                    if self._stalled:
                        await self._flush()
                work.done()
            for _ in follower.take_dropped():
                work.done()
            work.stalled = True  # nothing can be logged until another draft arrives
            work.set_floor(follower.held + follower.lent)

    async def logged(self, signal_id: str) -> None:
        """Return once signal ``signal_id`` is in the log (used while following a schedule)."""
        follower = self.follower
        if follower is None or follower.has_logged(signal_id):
            return
        event = self._waiters.get(signal_id)
        if event is None:
            event = self._waiters[signal_id] = trio.Event()
        # The waiting task is blocked on a held draft: its unit of work counts as held, so
        # a replay that can never log that draft is seen to be stuck (see _quiescence).
        work = self._run.work
        follower.lent += 1
        work.set_floor(follower.held + follower.lent)
        try:
            await event.wait()
        finally:
            if not event.is_set():  # cancelled: the broker did not take the loan back
                follower.lent -= 1
                work.floor = follower.held + follower.lent

    def _log(self, draft: Draft) -> Signal | None:
        signal_id, name, payload, source, extra = draft
        run = self._run
        refused = run.refused_ids
        if (
            refused
            and source.parent in refused
            and not isinstance(extra, Changed | Terminating)
            and source.agent == refused[source.parent]
        ):
            return None  # a later draft of an activation the broker refused
        if extra is not None:
            rewrite = extra.admit(run, name, payload)
            if rewrite is not None:
                name, payload = rewrite
        log = run.log
        signal = Signal(signal_id, name, payload, time.time(), len(log.signals), run.run_id, source)
        follower = self._follower  # (not the property: this runs for every signal)
        if follower is not None:
            signal = follower.stamp(signal)
        log.append(signal)
        for observe in self.observers:
            observe(signal)
        if extra is not None:
            extra.logged(run, signal)
        return signal

    @property
    def counts(self) -> Counter[str]:
        """How many signals of each name the log holds (counted when asked: it is read once
        per run, while counting as signals pass would cost every signal)."""
        return Counter(signal.name for signal in self._run.log)

    def log_now(self, name: str, payload: dict[str, Any], source: SignalSource) -> Signal:
        """Number and log a signal without routing it (final signals after the tasks stop)."""
        signal = self._log((new_signal_id(), name, payload, source, None))
        assert signal is not None
        return signal

    def drain(self) -> int:
        """Log every draft still queued or held, without routing (the run is over); returns
        how many. Held drafts go in their recorded order first, then in arrival order."""
        drained = 0
        follower = self.follower
        while True:
            try:
                draft = self._receive.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            if draft is _WAKE:
                continue  # stalled deliveries: the run is over, nothing is routed any more
            if follower is not None:
                follower.hold(draft)
            elif self._log(draft) is not None:
                drained += 1
        while self.generated:
            draft = self.generated.pop(0)
            if follower is not None:
                follower.hold(draft)
            elif self._log(draft) is not None:
                drained += 1
        if follower is not None:
            for draft in follower.drain():
                signal = self._log(draft)
                if signal is not None:
                    follower.logged(signal, strict=False)
                    drained += 1
        return drained
