"""The state actor: the only writer of workflow state.

It applies, one at a time, agents' ``updates`` commits and the reducers the broker routes to
it; publishes ``state:<key>:changed`` only when a value really changed, with the true old
value; and evaluates ``end_when`` after every change (and once against the initial state).
Because it is the only writer and works serially, no update from parallel activations is lost
or torn.

Once ``end_when`` has held and the run ends by cancelling (the default), the state is frozen:
later commits and reducers are refused, so the final state is exactly the one ``end_when``
accepted. When the run drains instead, in-flight work still commits.

The state actor never calls a harness and never routes signals.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import trio

from ._errors import OpenHarnessError, UserCodeError
from ._json import to_jsonable
from ._signal import Signal, SignalSource
from ._state import values_equal
from ._storable import refused_change

if TYPE_CHECKING:
    from ._run import RunCore

__all__ = ["Commit", "StateActor"]


class Commit:
    """An activation's request to set ``key`` to ``value``; ``applied`` is the answer."""

    __slots__ = ("agent", "applied", "changed_id", "done", "key", "parent", "value")

    def __init__(self, agent: str, key: str, value: Any, parent: str) -> None:
        self.agent = agent
        self.key = key
        self.value = value
        self.parent = parent
        self.done = trio.Event()
        self.applied = False
        self.changed_id: str | None = None
        """The id of the ``state:<key>:changed`` signal, when the value changed."""


class _Reduce:
    __slots__ = ("reducers", "signal")

    def __init__(self, signal: Signal, reducers: tuple[int, ...]) -> None:
        self.signal = signal
        self.reducers = reducers


class _CheckInitial:
    __slots__ = ("parent",)

    def __init__(self, parent: str) -> None:
        self.parent = parent


class StateActor:
    """Owns the run's state; see the module docstring."""

    def __init__(self, core: RunCore) -> None:
        self._core = core
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
        """The next message; a checkpoint, like a memory channel's ``receive()``."""
        if self._messages:
            await trio.lowlevel.checkpoint()
        else:
            self._parked = trio.lowlevel.current_task()
            await trio.lowlevel.wait_task_rescheduled(self._abort)
        return self._messages.popleft()

    def deliver(self, signal: Signal, reducers: tuple[int, ...]) -> None:
        """Queue ``signal`` for the reducers at ``reducers`` (broker only; never blocks)."""
        self._put(_Reduce(signal, reducers))

    def check_initial(self, start_signal_id: str) -> None:
        """Queue the evaluation of ``end_when`` against the initial state (holds a unit of
        work until done, so the run cannot look quiescent before it)."""
        self._core.work.add()
        self._put(_CheckInitial(start_signal_id))

    async def commit(self, commit: Commit) -> bool:
        """Apply an activation's update; returns whether it was applied (``False`` when the
        run has ended and the state is frozen). Returns after the ``state:*:changed`` signal,
        if any, is published."""
        self._put(commit)
        await commit.done.wait()
        return commit.applied

    async def run(self) -> None:
        """The state actor task."""
        core = self._core
        get = self._get
        while True:
            message = await get()
            if isinstance(message, Commit):
                try:
                    await self._apply_commit(message)
                finally:
                    message.done.set()
            elif isinstance(message, _Reduce):
                try:
                    await self._apply_reducers(message)
                finally:
                    core.work.done()
            else:
                try:
                    await self._check_end(message.parent, agent=None)
                finally:
                    core.work.done()

    async def _apply_commit(self, commit: Commit) -> None:
        core = self._core
        if core.state_frozen:
            return
        model = core.state_model
        old_state = core.state
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
            core.fail(error)
            return
        check = core.broker.check  # set in recorded runs only: refuse what cannot be stored
        if check is not None and (
            refused := refused_change(check, commit.key, commit.value, commit.agent)
        ):
            core.fail(refused)
            return
        core.state = new_state
        commit.applied = True
        if values_equal(old_value, commit.value):
            return
        changed_id = await self._publish_change(
            commit.key, old_value, commit.value, agent=commit.agent, parent=commit.parent
        )
        commit.changed_id = changed_id
        await self._check_end(changed_id, agent=commit.agent, activation=commit.parent)

    async def _apply_reducers(self, message: _Reduce) -> None:
        core = self._core
        if core.state_frozen:
            return
        model = core.state_model
        signal = message.signal
        for index in message.reducers:
            pattern, reducer = core.reducers[index]
            old_state = core.state
            try:
                new_state = model.normalize(reducer(old_state, signal))
            except Exception as exc:
                error = UserCodeError(
                    f"reducer for {pattern.source!r} raised on {signal.name!r}: {exc!r}",
                    where=f"reducer for {pattern.source!r}",
                )
                error.__cause__ = exc
                core.fail(error)
                return
            changes = model.changes(old_state, new_state)
            check = core.broker.check  # recorded runs only, as in _apply_commit
            if check is not None:
                for key, _, after in changes:
                    if refused := refused_change(check, key, after, signal.source.agent):
                        core.fail(refused)
                        return
            core.state = new_state
            last_id = None
            for key, before, after in changes:
                last_id = await self._publish_change(
                    key, before, after, agent=signal.source.agent, parent=signal.id
                )
            if last_id is not None:
                if core.barrier is not None:  # a durable journal writes the change first
                    await core.barrier(last_id)
                await self._check_end(last_id, agent=signal.source.agent)
                if core.state_frozen:
                    return

    async def _publish_change(
        self, key: str, old: Any, new: Any, *, agent: str | None, parent: str
    ) -> str:
        payload = {
            "key": key,
            "old_value": to_jsonable(old),
            "new_value": to_jsonable(new),
            "agent": agent,
        }
        return await self._core.broker.publish(
            f"state:{key}:changed", payload, SignalSource(agent, None, parent)
        )

    async def _check_end(
        self, parent: str, *, agent: str | None, activation: str | None = None
    ) -> None:
        core = self._core
        if core.end_when is None or core.ending:
            return
        try:
            done = bool(core.end_when(core.state))
        except Exception as exc:
            error: OpenHarnessError = UserCodeError(f"end_when raised: {exc!r}", where="end_when")
            error.__cause__ = exc
            core.fail(error)
            return
        if done:
            await core.terminate(parent=parent, agent=agent, activation=activation)
