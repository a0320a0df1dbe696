"""The state actor: the only writer of workflow state.

Its input is the log: the broker hands it, in log order, every signal reducers listen to and
every ``agent:completed`` that carries an update (:class:`Commit`). It applies them one at a
time, so no update from parallel activations is lost or torn, and — because the order is the
log's — the state after any place in the log is a function of the log alone. It publishes
``state:<key>:changed`` only when a value really changed, with the true old value and the new
state attached (the state as of that place in the log, which later deliveries carry), and
evaluates ``end_when`` after every change (and once against the initial state).

Once ``end_when`` has held and the run ends by cancelling (the default), the state is frozen:
later commits and reducers are refused, so the final state is exactly the one ``end_when``
accepted. When the run drains instead, in-flight work still commits.

The state actor never calls a harness and never routes signals.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import trio

from .._define._pattern import Pattern
from .._define._state import StateModel, values_equal
from .._errors import OpenHarnessError, UserCodeError
from .._json import to_jsonable
from ._control import Attachment, Changed, Terminating
from ._signal import Signal, SignalSource
from ._storable import refused_change

if TYPE_CHECKING:
    from ._ports import StatePort
    from ._quiescence import WorkCounter
    from ._run import AgentStats, RunCore

__all__ = ["Commit", "StateActor"]


class Commit(Attachment):
    """An activation's request to set ``key`` to ``value``, riding on its
    ``agent:completed``; ``applied`` is the answer, known once ``done`` is set."""

    __slots__ = (
        "agent",
        "applied",
        "changed_id",
        "done",
        "emits",
        "key",
        "parent",
        "source",
        "stats",
        "value",
    )

    def __init__(
        self,
        agent: str,
        key: str,
        value: Any,
        parent: str,
        emits: Sequence[tuple[str, dict[str, Any]]] = (),
        source: SignalSource | None = None,
        stats: AgentStats | None = None,
    ) -> None:
        self.agent = agent
        self.key = key
        self.value = value
        self.parent = parent
        self.emits = emits
        """The activation's declared emits, published once the update is committed."""
        self.source = source
        self.stats = stats
        """Given when the activation does not wait for the answer (``done`` is then
        ``None``): the state actor counts the agent's completion when it applies the update."""
        self.done: trio.Event | None = trio.Event() if stats is None else None
        self.applied = False
        self.changed_id: str | None = None
        """The id of the ``state:<key>:changed`` signal, when the value changed."""

    def logged(self, run: RunCore, signal: Signal) -> None:
        run.state_actor.put_commit(self)


class _Reduce:
    __slots__ = ("reducers", "signal")

    def __init__(self, signal: Signal, reducers: tuple[int, ...]) -> None:
        self.signal = signal
        self.reducers = reducers


class InitialCheck(Attachment):
    """Rides on ``workflow:start``: ``end_when`` is evaluated against the initial state when
    the start is logged, and ``workflow:terminating`` (when it holds) is logged right after
    it — before any activation the start wakes can be admitted, in every run and replay."""

    __slots__ = ()

    def logged(self, run: RunCore, signal: Signal) -> None:
        terminating = run.state_actor.end_reached(None, None)
        if terminating is not None:
            run.broker.generate(
                "workflow:terminating",
                terminating[0],
                SignalSource(None, None, signal.id),
                terminating[1],
            )


INITIAL_CHECK = InitialCheck()

_STOP: Any = object()
"""Queued by :meth:`StateActor.stop`: the actor task returns when it takes it."""


class StateActor:
    """Owns the run's state; see the module docstring."""

    def __init__(
        self,
        run: StatePort,
        work: WorkCounter,
        model: StateModel,
        state: Any,
        reducers: Sequence[tuple[Pattern, Callable[[Any, Signal], Any]]],
        end_when: Callable[[Any], Any] | None,
        on_end: str,
    ) -> None:
        self._run = run
        self._work = work
        self._model = model
        self.state = state
        self._reducers = reducers
        self._end_when = end_when
        self._drain = on_end == "drain"
        self._ended = False
        self.frozen = False
        # The mailbox: unbounded (see the broker for why that cannot deadlock or grow without
        # bound) and read by this actor alone, so a deque plus the parked actor task does
        # what an unbounded memory channel does, in a third of its memory per run.
        self._messages: deque[Any] = deque()
        self._parked: trio.lowlevel.Task | None = None

    def _put(self, message: Any) -> None:
        self._messages.append(message)
        task = self._parked
        if task is not None:
            self._parked = None
            trio.lowlevel.reschedule(task)

    def _abort(self, raise_cancel: trio.lowlevel.RaiseCancelT) -> trio.lowlevel.Abort:
        self._parked = None
        return trio.lowlevel.Abort.SUCCEEDED

    async def _get(self) -> Any:
        """The next message; parks only when there is none (no scheduler round per message
        while the queue has some: the actor's input is bounded by what others publish)."""
        if not self._messages:
            self._parked = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort)
        return self._messages.popleft()

    def stop(self) -> None:
        """End the actor task once it has applied what is queued (the run is over)."""
        self._put(_STOP)

    def deliver(self, signal: Signal, reducers: tuple[int, ...]) -> None:
        """Queue ``signal`` for the reducers at ``reducers`` (the broker's routing only, in
        whichever task routes it; never blocks; a unit of work was added for it)."""
        self._put(_Reduce(signal, reducers))

    def put_commit(self, commit: Commit) -> None:
        """Queue an update whose ``agent:completed`` was just logged (at log time only)."""
        self._work.add()
        self._put(commit)

    async def run(self) -> None:
        """The state actor task."""
        work = self._work
        get = self._get
        while True:
            message = await get()
            if message is _STOP:
                return
            try:
                if isinstance(message, Commit):
                    try:
                        await self._apply_commit(message)
                    finally:
                        if message.done is not None:
                            message.done.set()
                else:
                    await self._apply_reducers(message)
            finally:
                work.done()

    async def _apply_commit(self, commit: Commit) -> None:
        if self.frozen:
            return
        model = self._model
        old_state = self.state
        old_value = model.get(old_state, commit.key)
        try:
            new_state = model.replace(old_state, commit.key, commit.value)
        except Exception as exc:
            error = UserCodeError(
                f"agent {commit.agent!r} produced a value for {commit.key!r} that "
                f"{model.type_name} rejects: {exc!r}",
                where=f"update of {commit.key!r}",
                agent=commit.agent,
            )
            error.__cause__ = exc
            self._run.fail(error)
            return
        check = self._run.store_check  # recorded runs only: refuse what cannot be stored
        if check is not None and (
            refused := refused_change(check, commit.key, commit.value, commit.agent)
        ):
            self._run.fail(refused)
            return
        self.state = new_state
        commit.applied = True
        if commit.stats is not None:
            commit.stats.completed += 1
        if values_equal(old_value, commit.value):
            await self._publish_emits(commit)
            return
        changed_id = await self._publish_change(
            commit.key,
            to_jsonable(old_value),
            to_jsonable(commit.value),
            new_state,
            agent=commit.agent,
            parent=commit.parent,
        )
        commit.changed_id = changed_id
        barrier = self._run.barrier
        if barrier is not None:  # a durable journal writes the change first
            await self._run.logged(changed_id)
            await barrier(changed_id)
        await self._check_end(changed_id, agent=commit.agent, activation=commit.parent)
        await self._publish_emits(commit)

    async def _publish_emits(self, commit: Commit) -> None:
        """The committed activation's emits, after its change (and any ``end_when``)."""
        if commit.emits:
            assert commit.source is not None
            publish = self._run.publish
            for name, payload in commit.emits:
                await publish(name, payload, commit.source)

    async def _apply_reducers(self, message: _Reduce) -> None:
        if self.frozen:
            return
        model = self._model
        signal = message.signal
        for index in message.reducers:
            pattern, reducer = self._reducers[index]
            old_state = self.state
            try:
                new_state = model.normalize(reducer(old_state, signal))
            except Exception as exc:
                error = UserCodeError(
                    f"reducer for {pattern.source!r} raised on {signal.name!r}: {exc!r}",
                    where=f"reducer for {pattern.source!r}",
                )
                error.__cause__ = exc
                self._run.fail(error)
                return
            changes = model.changes(old_state, new_state)
            try:  # a value with no JSON form must not reach the state
                forms = [(to_jsonable(a), to_jsonable(b)) for _, a, b in changes]
            except TypeError as exc:
                error = UserCodeError(
                    f"reducer for {pattern.source!r} on {signal.name!r} made a state with no "
                    f"JSON form: {exc}",
                    where=f"reducer for {pattern.source!r}",
                )
                error.__cause__ = exc
                self._run.fail(error)
                return
            check = self._run.store_check  # recorded runs only, as in _apply_commit
            if check is not None:
                for key, _, after in changes:
                    if refused := refused_change(check, key, after, signal.source.agent):
                        self._run.fail(refused)
                        return
            self.state = new_state
            last_id = None
            snapshot = old_state
            for number, ((key, _, after), (before_form, after_form)) in enumerate(
                zip(changes, forms, strict=True), 1
            ):
                # The state as of each change signal: the changes so far, nothing after
                # (built from the Python values; the payload carries their JSON forms).
                snapshot = (
                    new_state if number == len(changes) else model.replace(snapshot, key, after)
                )
                last_id = await self._publish_change(
                    key,
                    before_form,
                    after_form,
                    snapshot,
                    agent=signal.source.agent,
                    parent=signal.id,
                )
            if last_id is not None:
                barrier = self._run.barrier
                if barrier is not None:  # a durable journal writes the change first
                    await self._run.logged(last_id)
                    await barrier(last_id)
                await self._check_end(last_id, agent=signal.source.agent)
                if self.frozen:
                    return

    async def _publish_change(
        self, key: str, old: Any, new: Any, snapshot: Any, *, agent: str | None, parent: str
    ) -> str:
        """Publish ``state:<key>:changed``; ``old``/``new`` are already JSON forms (each value
        is converted once), ``snapshot`` the state as of this change."""
        payload = {"key": key, "old_value": old, "new_value": new, "agent": agent}
        return await self._run.publish(
            f"state:{key}:changed", payload, SignalSource(agent, None, parent), Changed(snapshot)
        )

    def end_reached(
        self, agent: str | None, activation: str | None
    ) -> tuple[dict[str, Any], Terminating] | None:
        """Evaluate ``end_when`` against the state now; when it holds (the first time), the
        payload and attachment of the ``workflow:terminating`` to publish. A raising
        ``end_when`` fails the run."""
        if self._end_when is None or self._ended:
            return None
        try:
            done = bool(self._end_when(self.state))
        except Exception as exc:
            error: OpenHarnessError = UserCodeError(f"end_when raised: {exc!r}", where="end_when")
            error.__cause__ = exc
            self._run.fail(error)
            return None
        if not done:
            return None
        self._ended = True
        if not self._drain:
            self.frozen = True
        payload = {
            "reason": "end_when",
            "agent": agent,
            "mode": "drain" if self._drain else "cancel",
        }
        return payload, Terminating(activation)

    async def _check_end(
        self, parent: str, *, agent: str | None, activation: str | None = None
    ) -> None:
        terminating = self.end_reached(agent, activation)
        if terminating is not None:
            payload, attachment = terminating
            await self._run.publish(
                "workflow:terminating", payload, SignalSource(agent, None, parent), attachment
            )
