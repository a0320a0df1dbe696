"""The agent actor: one task per agent, with its own mailbox, running its activations.

The actor's loop only takes deliveries (a trigger and the state as of its place in the log)
out of the mailbox and starts activations (or queues them when ``max_concurrency`` is reached);
it never waits on the broker, which is what keeps the broker from ever blocking for good on a
full mailbox. An agent with joins (``all_of``) passes each signal through its
:class:`~openharness_actors._core._join.JoinBook` first, which says what to start: the signal
itself, join firings, or nothing yet. Mailbox order is log order, so joins fire the same way in
a replay.

An activation: guard -> ``agent:activated`` (admitted by the broker at log time, or turned into
``agent:skipped``) -> render the prompt -> harness call, its events streamed as signals ->
``agent:completed`` carrying the ``updates`` write, which the state actor commits in log order
-> declared emits. Failures (after the agent's retry policy) become ``agent:failed``, whose
consequence — fail the run, or restart — the supervisor decides when it is logged
(``_supervisor``). The actor never writes state and reads nothing another actor owns: what it
decides depends only on the log (DESIGN §9).
"""

from __future__ import annotations

import contextlib
import inspect
from collections import deque
from typing import TYPE_CHECKING, Any

import trio

from .._define._agent import AgentContext, AgentSpec
from .._define._all_of import AllOf
from .._define._output import emit_payload, parse_output
from .._define._template import Template
from .._errors import (
    ActivationTimeoutError,
    HarnessError,
    OpenHarnessError,
    TemplateError,
    UserCodeError,
)
from .._json import to_jsonable
from ..harness.protocol import Harness, HarnessEvent, HarnessRequest, HarnessResult
from ._activation import Activation
from ._control import GUARD_SKIP, Attachment, Failure
from ._join import Firing, JoinBook, consumed_payload, unwrap
from ._mailbox import Mailbox
from ._signal import Signal, SignalSource, new_signal_id
from ._state_actor import Commit

if TYPE_CHECKING:
    from ._ports import AgentPort
    from ._quiescence import WorkCounter
    from ._run import AgentStats

__all__ = ["AgentActor", "Delivery"]

Delivery = tuple[Signal, Any]
"""What a mailbox holds: a trigger and the state as of its place in the log."""

Queued = tuple["Signal | Firing", Any]
"""What a ``max_concurrency`` queue holds: a trigger or a join firing, and that state."""


_NO_SCOPE = contextlib.nullcontext()
"""Stands in for an activation's cancel scope in a run that cannot cancel one."""


def _cancelled() -> bool:
    """Whether the current task is really being cancelled (a ``trio.Cancelled`` raised by
    user code outside any cancellation is a bug of that code, not a cancellation)."""
    return trio.current_effective_deadline() == float("-inf")


class AgentActor:
    """Runs one agent's activations for one run."""

    def __init__(
        self,
        run: AgentPort,
        work: WorkCounter,
        name: str,
        spec: AgentSpec,
        harness: Harness | None,
        stats: AgentStats,
        mailbox_size: int,
    ) -> None:
        self._run = run
        self._work = work
        self.name = name
        self.spec = spec
        self._harness = harness
        self._stats = stats
        self.mailbox: Mailbox[Delivery] = Mailbox(mailbox_size)
        # Only agents with max_concurrency queue triggers (memory per run matters at scale).
        self._queue: deque[Queued] | None = None if spec.max_concurrency is None else deque()
        self._joins = (
            JoinBook(spec.activate_on, work)
            if any(isinstance(e, AllOf) for e in spec.activate_on)
            else None
        )
        self._workers = 0
        self._nursery: trio.Nursery | None = None

    async def run(self, nursery: trio.Nursery) -> None:
        """The actor task: start an activation per trigger, within ``max_concurrency``.

        Activations are started in the run's nursery, which supervises them exactly as a
        nursery of the actor's own would, without costing a nursery per agent (memory) and an
        exception group per agent when the run is cancelled at its end (time).
        """
        self._nursery = nursery
        get = self.mailbox.get  # returns at once while deliveries are queued (no yield)
        while True:
            delivery = await get()
            if delivery is None:
                return  # the run is over (closed at quiescence, see RunCore._quiet_end)
            trigger, state = delivery
            if self._joins is None:
                self._dispatch(trigger, state)
            else:
                for started in self._joins.feed(trigger):
                    self._dispatch(started, state)

    def _dispatch(self, trigger: Signal | Firing, state: Any, *, again: bool = False) -> None:
        assert self._nursery is not None
        limit = self.spec.max_concurrency
        if limit is None:
            self._nursery.start_soon(self._activate, trigger, state)
            return
        queue = self._queue
        assert queue is not None
        if again:
            queue.appendleft((trigger, state))
        else:
            queue.append((trigger, state))
        while self._workers < limit and queue:
            self._workers += 1
            self._nursery.start_soon(self._worker, queue)

    async def _worker(self, queue: deque[Queued]) -> None:
        try:
            while queue:
                await self._activate(*queue.popleft())
        finally:
            self._workers -= 1

    async def _activate(self, trigger: Signal | Firing, state: Any) -> None:
        again = False
        try:
            again = await self._activation(trigger, state)
        finally:
            if again and not self._run.stopping:
                # The trigger's unit of work carries over to the new activation.
                self._dispatch(trigger, state, again=True)
            else:
                self._work.done()

    async def _publish(
        self,
        name: str,
        payload: dict[str, Any],
        parent: str,
        extra: Attachment | None = None,
    ) -> str:
        return await self._run.publish(name, payload, SignalSource(self.name, None, parent), extra)

    async def _skip(self, trigger: Signal, reason: str) -> None:
        self._stats.skipped += 1
        await self._publish(
            "agent:skipped",
            {"agent": self.name, "trigger": trigger.name, "reason": reason},
            trigger.id,
            GUARD_SKIP if reason == "guard" else None,
        )

    async def _activation(self, entry: Signal | Firing, state: Any) -> bool:
        """One activation; returns whether the trigger must run again (restart)."""
        run = self._run
        spec = self.spec
        trigger, consumed = unwrap(entry)
        if run.stopping:
            return False
        if run.ending:
            await self._skip(trigger, "run ending")
            return False
        ctx = AgentContext(
            state, trigger, run.initial_state, self.name, run.run_id, consumed or (trigger,)
        )
        if spec.when is not None:
            guard_timed_out = False
            try:
                allowed = spec.when(ctx)
                if inspect.isawaitable(allowed):
                    if spec.timeout is None:
                        allowed = await allowed
                    else:  # an async guard is bounded by the agent's timeout too
                        pending, allowed = allowed, False
                        with trio.move_on_after(spec.timeout) as guard_deadline:
                            allowed = await pending
                        guard_timed_out = guard_deadline.cancelled_caught
            except Exception as exc:
                error = UserCodeError(
                    f"guard of agent {self.name!r} raised on {trigger.name!r}: {exc!r}",
                    where=f"guard of agent {self.name!r}",
                    agent=self.name,
                )
                error.__cause__ = exc
                return await self._failed(error, trigger, trigger.id, None)
            if guard_timed_out:
                timeout_error = ActivationTimeoutError(
                    f"guard of agent {self.name!r} took longer than {spec.timeout}s "
                    f"on {trigger.name!r}",
                    agent=self.name,
                    timeout=spec.timeout or 0.0,
                )
                return await self._failed(timeout_error, trigger, trigger.id, None)
            if not allowed:
                await self._skip(trigger, "guard")
                return False
        cancellable = run.cancellable
        activation = Activation(
            self.name, trigger, ctx.signals, state, new_signal_id(), cancellable
        )
        scope = activation.scope
        started = trio.current_time()
        if cancellable:
            run.register(activation)
        try:
            with scope if scope is not None else _NO_SCOPE:
                activated: dict[str, Any] = {"agent": self.name, "trigger": trigger.name}
                if consumed is not None:
                    activated.update(consumed_payload(consumed))
                await run.publish(
                    "agent:activated",
                    activated,
                    SignalSource(self.name, None, trigger.id),
                    activation,
                    activation.id,
                )
                if run.following:
                    await run.logged(activation.id)
                if activation.refused:
                    return False
                if await self._run_activation(ctx, activation):
                    return False
        except OpenHarnessError as error:
            if activation.refused:
                return False
            return await self._failed(error, trigger, activation.id, activation)
        finally:
            if cancellable:
                run.unregister(activation)
            self._stats.duration_ms += (trio.current_time() - started) * 1000
        # Only reached when this activation's scope was cancelled — by a restart, because
        # the run is ending, or because the broker refused it — or its commit was refused
        # because the state is frozen.
        if activation.refused:
            return False
        reason = activation.cancel_reason or "run ending"
        self._stats.cancelled += 1
        await self._publish(
            "agent:cancelled", {"agent": self.name, "reason": reason}, activation.id
        )
        return reason == "restart"

    async def _run_activation(self, ctx: AgentContext[Any], activation: Activation) -> bool:
        """Run the activation to completion; ``False`` when the run ended under it."""
        spec = self.spec
        activation_id = activation.id
        value = await self._attempts(ctx, activation_id)
        try:
            output = to_jsonable(value)
        except TypeError as exc:
            raise UserCodeError(
                f"output of agent {self.name!r} has no JSON form: {exc}",
                where=f"output of agent {self.name!r}",
                agent=self.name,
            ) from exc
        publish = self._run.publish
        source = SignalSource(self.name, None, activation_id)  # one for completed and emits
        emits: list[tuple[str, dict[str, Any]]] = []
        if spec.emits:
            payload = emit_payload(self.name, value, structured=spec.output is not None)
            emits = [(name, payload) for name in spec.emits]
        if spec.updates is None:
            await publish("agent:completed", {"agent": self.name, "output": output}, source)
            for name, payload in emits:
                await publish(name, payload, source)
            self._stats.completed += 1
            return True
        # The emits ride on the commit: the state actor publishes them right after the change
        # it commits (one broker round for change and emits), or not at all if refused.
        # When nothing can cancel this activation or freeze the state, only a failing run can
        # refuse the update: the activation ends at agent:completed (one wake-up less) and
        # the state actor counts the completion (it is handed the stats to do so).
        waits = self._run.cancellable
        commit = Commit(
            self.name,
            spec.updates,
            value,
            activation_id,
            emits,
            source,
            None if waits else self._stats,
        )
        completed_id = await publish(
            "agent:completed", {"agent": self.name, "output": output}, source, commit
        )
        if not waits:
            return True
        if self._run.following:
            await self._run.logged(completed_id)
        assert commit.done is not None
        await commit.done.wait()
        if not commit.applied:
            return False
        self._stats.completed += 1
        return True

    async def _attempts(self, ctx: AgentContext[Any], activation_id: str) -> Any:
        spec = self.spec
        policy = spec.retry
        attempt = 1
        first = trio.current_time()
        while True:
            try:
                if spec.timeout is None:
                    return await self._perform(ctx, activation_id)
                with trio.fail_after(spec.timeout):
                    return await self._perform(ctx, activation_id)
            except trio.TooSlowError as exc:
                error: OpenHarnessError = ActivationTimeoutError(
                    f"activation of agent {self.name!r} took longer than {spec.timeout}s",
                    agent=self.name,
                    timeout=spec.timeout or 0.0,
                )
                error.__cause__ = exc
            except OpenHarnessError as exc:
                error = exc
            elapsed = trio.current_time() - first
            if policy is None or not policy.should_retry(error, attempt, elapsed):
                raise error
            delay = policy.delay(attempt)
            self._stats.retries += 1
            await self._publish(
                "agent:retry",
                {
                    "agent": self.name,
                    "attempt": attempt,
                    "delay": delay,
                    "error": str(error),
                    "error_type": type(error).__name__,
                },
                activation_id,
            )
            if self._run.following:
                # Replaying: the recorded answer is already known; waiting changes nothing.
                await trio.lowlevel.checkpoint()
            else:
                await trio.sleep(delay)
            attempt += 1

    async def _perform(self, ctx: AgentContext[Any], activation_id: str) -> Any:
        spec = self.spec
        if spec.body is not None:
            try:
                value = spec.body(ctx)
                if inspect.isawaitable(value):
                    value = await value
            except Exception as exc:
                raise UserCodeError(
                    f"body of agent {self.name!r} raised: {exc!r}",
                    where=f"body of agent {self.name!r}",
                    agent=self.name,
                ) from exc
            except trio.Cancelled as exc:
                if _cancelled():
                    raise
                raise UserCodeError(
                    f"body of agent {self.name!r} raised trio.Cancelled while nothing cancelled it",
                    where=f"body of agent {self.name!r}",
                    agent=self.name,
                ) from exc
            return value
        harness = self._harness
        assert harness is not None  # checked when the run started
        prompt = self._render(spec.prompt, ctx, "prompt")
        system = self._render(spec.system, ctx, "system") if spec.system is not None else None
        request = HarnessRequest(
            agent=self.name,
            prompt=prompt or "",
            run_id=ctx.run_id,
            activation_id=activation_id,
            system=system,
            model=spec.model,
            tools=spec.tools,
            output=spec.output,
        )
        return await self._call_harness(harness, request)

    async def _call_harness(self, harness: Harness, request: HarnessRequest) -> Any:
        run = self._run
        source = SignalSource(self.name, harness.name, request.activation_id)
        publish = run.publish
        await publish(
            "harness:start",
            {"agent": self.name, "model": request.model or getattr(harness, "model", None)},
            source,
        )

        async def emit(event: HarnessEvent) -> None:
            await publish(event.signal_name, event.payload(), source)

        started = trio.current_time()
        try:
            result = await harness.run(request, emit)
            if not isinstance(result, HarnessResult) or not isinstance(result.output, str):
                got = (
                    f"a HarnessResult whose output is {type(result.output).__name__}"
                    if isinstance(result, HarnessResult)
                    else type(result).__name__
                )
                raise HarnessError(
                    f"harness {harness.name!r} returned {got} for agent {self.name!r}; "
                    "expected a HarnessResult with a str output",
                    agent=self.name,
                    code="harness_bad_result",
                )
        except HarnessError as exc:
            if exc.agent is None:
                exc.agent = self.name
            await self._harness_error(exc, source)
            raise
        except trio.TooSlowError:
            raise  # the agent's timeout (a replay reproduces a recorded one this way)
        except Exception as exc:
            error = HarnessError(
                f"harness {harness.name!r} failed for agent {self.name!r}: {exc!r}",
                agent=self.name,
                code="harness_exception",
            )
            error.__cause__ = exc
            await self._harness_error(error, source)
            raise error from exc
        except trio.Cancelled as exc:
            if _cancelled():
                raise
            error = HarnessError(
                f"harness {harness.name!r} raised trio.Cancelled for agent {self.name!r} while "
                "nothing cancelled it",
                agent=self.name,
                code="harness_exception",
            )
            error.__cause__ = exc
            await self._harness_error(error, source)
            raise error from exc
        duration_ms = (trio.current_time() - started) * 1000
        self._stats.usage = self._stats.usage + result.usage
        if result.cost_usd is not None:
            self._stats.cost_usd = (self._stats.cost_usd or 0.0) + result.cost_usd
        end_id = await publish(
            "harness:end",
            {
                "output": result.output,
                "usage": result.usage.to_dict(),
                "duration_ms": duration_ms,
                "stop_reason": result.stop_reason,
                "model": result.model,
                "cost_usd": result.cost_usd,
            },
            source,
        )
        barrier = run.barrier
        if barrier is not None:  # a durable journal: the result is written before we go on
            if run.following:
                await run.logged(end_id)
            await barrier(end_id)
        if self.spec.output is None:
            return result.output
        return parse_output(result.output, self.spec.output, agent=self.name)

    async def _harness_error(self, error: HarnessError, source: SignalSource) -> None:
        await self._run.publish(
            "harness:error",
            {"code": error.code, "message": str(error), "retryable": error.retryable},
            source,
        )

    def _render(self, source: Any, ctx: AgentContext[Any], what: str) -> str:
        if isinstance(source, Template):
            try:
                return source.render(state=ctx.state, signal=ctx.signal, input=ctx.input)
            except TemplateError as exc:
                raise TemplateError(
                    f"agent {self.name!r}: {what}: {exc}",
                    template=exc.template,
                    path=exc.path,
                    agent=self.name,
                ) from exc
        try:
            text = source(ctx)
        except Exception as exc:
            raise UserCodeError(
                f"{what} callable of agent {self.name!r} raised: {exc!r}",
                where=f"{what} of agent {self.name!r}",
                agent=self.name,
            ) from exc
        if not isinstance(text, str):
            raise UserCodeError(
                f"{what} callable of agent {self.name!r} returned {type(text).__name__}, not str",
                where=f"{what} of agent {self.name!r}",
                agent=self.name,
            )
        return text

    async def _failed(
        self,
        error: OpenHarnessError,
        trigger: Signal,
        parent: str,
        activation: Activation | None,
    ) -> bool:
        """Handle a failed activation by ``on_error``; returns whether the trigger must run
        again (a restart, decided by the supervisor when ``agent:failed`` is logged)."""
        self._stats.failed += 1
        on_error = self.spec.on_error
        details = {"agent": self.name, "error": str(error), "error_type": type(error).__name__}
        failure = Failure(error, on_error, activation) if on_error == "fail" else None
        failed_id = await self._publish("agent:failed", details, parent, failure)
        if on_error == "emit":
            assert self.spec.error_signal is not None
            await self._publish(
                self.spec.error_signal, {**details, "trigger": trigger.name}, parent
            )
        if failure is None:
            return False
        if self._run.following:
            await self._run.logged(failed_id)
        await failure.decided.wait()
        return failure.restart
