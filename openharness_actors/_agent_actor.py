"""The agent actor: one task per agent, with its own mailbox, running its activations.

The actor's loop only takes triggers out of the mailbox and starts activations (or queues them
when ``max_concurrency`` is reached); it never waits on the broker, which is what keeps the
broker from ever blocking for good on a full mailbox. An agent with joins (``all_of``) passes
each signal through its :class:`~openharness_actors._core._join.JoinBook` first, which says
what to start: the signal itself, join firings, or nothing yet.

An activation: refuse if the run is ending -> guard -> ``agent:activated`` -> render the prompt
-> harness call, its events streamed as signals -> the state actor commits the ``updates`` write
-> ``agent:completed`` -> declared emits. Failures (after the agent's retry policy) become
``agent:failed`` and are handled by the agent's ``on_error`` and the run's supervisor
(``_supervision``): fail the run, skip, emit a failure signal, or restart. A restart cancels
in-flight activations and runs their triggers again. The actor never writes state itself.
"""

from __future__ import annotations

import inspect
from collections import deque
from typing import TYPE_CHECKING, Any

import attrs
import trio

from ._agent import AgentContext, AgentSpec
from ._core._join import Firing, JoinBook, consumed_payload, unwrap
from ._define._all_of import AllOf
from ._errors import (
    ActivationTimeoutError,
    HarnessError,
    OpenHarnessError,
    TemplateError,
    UserCodeError,
)
from ._json import to_jsonable
from ._output import emit_payload, parse_output
from ._signal import Signal, SignalSource
from ._state_actor import Commit
from ._template import Template
from .harness.protocol import Harness, HarnessEvent, HarnessRequest

if TYPE_CHECKING:
    from ._run import AgentStats, RunCore

__all__ = ["AgentActor"]


class AgentActor:
    """Runs one agent's activations for one run."""

    def __init__(
        self,
        core: RunCore,
        name: str,
        spec: AgentSpec,
        harness: Harness | None,
        stats: AgentStats,
        mailbox_size: int,
    ) -> None:
        self._core = core
        self.name = name
        self.spec = spec
        self._harness = harness
        self._stats = stats
        self.mailbox, self._receive = trio.open_memory_channel[Signal](mailbox_size)
        # Only agents with max_concurrency queue triggers (memory per run matters at scale).
        self._queue: deque[Signal | Firing] | None = (
            None if spec.max_concurrency is None else deque()
        )
        self._joins = (
            JoinBook(spec.activate_on, core.work)
            if any(isinstance(e, AllOf) for e in spec.activate_on)
            else None
        )
        self._workers = 0
        self._nursery: trio.Nursery | None = None
        self._inflight: set[trio.CancelScope] = set()
        self._restarting: set[trio.CancelScope] | None = None  # made by the first restart

    async def run(self) -> None:
        """The actor task: start an activation per trigger, within ``max_concurrency``.

        Activations are started in the run's nursery, which supervises them exactly as a
        nursery of the actor's own would, without costing a nursery per agent (memory) and an
        exception group per agent when the run is cancelled at its end (time).
        """
        self._nursery = self._core.nursery
        # receive() rather than ``async for``: one coroutine frame less per idle actor.
        receive = self._receive.receive
        while True:
            try:
                trigger = await receive()
            except trio.EndOfChannel:
                return
            if self._joins is None:
                self._dispatch(trigger)
            else:
                for started in self._joins.feed(trigger):
                    self._dispatch(started)

    def _dispatch(self, trigger: Signal | Firing, *, again: bool = False) -> None:
        assert self._nursery is not None
        limit = self.spec.max_concurrency
        if limit is None:
            self._nursery.start_soon(self._activate, trigger)
            return
        queue = self._queue
        assert queue is not None
        if again:
            queue.appendleft(trigger)
        else:
            queue.append(trigger)
        while self._workers < limit and queue:
            self._workers += 1
            self._nursery.start_soon(self._worker, queue)

    def restart(self, keep: trio.CancelScope | None = None) -> None:
        """Cancel every in-flight activation (but ``keep``) so that its trigger runs again."""
        for scope in list(self._inflight):
            if scope is not keep:
                if self._restarting is None:
                    self._restarting = set()
                self._restarting.add(scope)
                scope.cancel()

    async def _worker(self, queue: deque[Signal | Firing]) -> None:
        try:
            while queue:
                await self._activate(queue.popleft())
        finally:
            self._workers -= 1

    async def _activate(self, trigger: Signal | Firing) -> None:
        core = self._core
        again = False
        try:
            again = await self._activation(trigger)
        finally:
            if again and not core.failed:
                # The trigger's unit of work carries over to the new activation.
                self._dispatch(trigger, again=True)
            else:
                core.work.done()

    async def _publish(
        self, name: str, payload: dict[str, Any], parent: str, harness: str | None = None
    ) -> str:
        return await self._core.broker.publish(
            name, payload, SignalSource(self.name, harness, parent)
        )

    async def _skip(self, trigger: Signal, reason: str) -> None:
        self._stats.skipped += 1
        await self._publish(
            "agent:skipped",
            {"agent": self.name, "trigger": trigger.name, "reason": reason},
            trigger.id,
        )

    async def _activation(self, entry: Signal | Firing) -> bool:
        """One activation; returns whether the trigger must run again (restart)."""
        core = self._core
        spec = self.spec
        trigger, consumed = unwrap(entry)
        if core.failed:
            return False
        if core.ending:
            await self._skip(trigger, "run ending")
            return False
        ctx = AgentContext(
            core.state, trigger, core.initial_state, self.name, core.run_id, consumed or (trigger,)
        )
        if spec.when is not None:
            try:
                allowed = spec.when(ctx)
                if inspect.isawaitable(allowed):
                    allowed = await allowed
            except Exception as exc:
                error = UserCodeError(
                    f"guard of agent {self.name!r} raised on {trigger.name!r}: {exc!r}",
                    where=f"guard of agent {self.name!r}",
                    agent=self.name,
                )
                error.__cause__ = exc
                return await self._failed(error, trigger, trigger.id, None)
            if not allowed:
                await self._skip(trigger, "guard")
                return False
        if not core.admit_activation(self.name):
            return False
        self._stats.activations += 1
        scope = trio.CancelScope()
        started = trio.current_time()
        activation_id: str | None = None
        self._inflight.add(scope)
        try:
            with scope:
                core.register_activation(scope)
                activated: dict[str, Any] = {"agent": self.name, "trigger": trigger.name}
                if consumed is not None:
                    activated.update(consumed_payload(consumed))
                activation_id = await self._publish("agent:activated", activated, trigger.id)
                core.register_activation(scope, activation_id)
                if await self._run_activation(ctx, activation_id):
                    return False
        except OpenHarnessError as error:
            assert activation_id is not None
            return await self._failed(error, trigger, activation_id, scope)
        finally:
            self._inflight.discard(scope)
            core.unregister_activation(scope)
            self._stats.duration_ms += (trio.current_time() - started) * 1000
        # Only reached when this activation's scope was cancelled — by a restart, or because
        # the run is ending — or its commit was refused because the state is frozen.
        restarting_scopes = self._restarting
        restarting = restarting_scopes is not None and scope in restarting_scopes
        if restarting_scopes is not None:
            restarting_scopes.discard(scope)
        reason = "restart" if restarting else "run ending"
        if activation_id is None:
            self._stats.activations -= 1
            if not restarting:
                await self._skip(trigger, reason)
        else:
            self._stats.cancelled += 1
            await self._publish(
                "agent:cancelled", {"agent": self.name, "reason": reason}, activation_id
            )
        return restarting

    async def _run_activation(self, ctx: AgentContext[Any], activation_id: str) -> bool:
        """Run the activation to completion; ``False`` when the run ended under it."""
        core = self._core
        spec = self.spec
        value = await self._attempts(ctx, activation_id)
        if spec.updates is not None:
            commit = Commit(self.name, spec.updates, value, activation_id)
            if not await core.state_actor.commit(commit):
                return False
            if core.barrier is not None and commit.changed_id is not None:
                await core.barrier(commit.changed_id)
        try:
            output = to_jsonable(value)
        except TypeError as exc:
            raise UserCodeError(
                f"output of agent {self.name!r} has no JSON form: {exc}",
                where=f"output of agent {self.name!r}",
                agent=self.name,
            ) from exc
        publish = core.broker.publish
        source = SignalSource(self.name, None, activation_id)  # one for completed and emits
        await publish("agent:completed", {"agent": self.name, "output": output}, source)
        self._stats.completed += 1
        if spec.emits:
            payload = emit_payload(self.name, value, structured=spec.output is not None)
            for name in spec.emits:
                await publish(name, payload, source)
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
        core = self._core
        source = SignalSource(self.name, harness.name, request.activation_id)
        publish = core.broker.publish
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
        except HarnessError as exc:
            if exc.agent is None:
                exc.agent = self.name
            await self._harness_error(exc, source)
            raise
        except Exception as exc:
            error = HarnessError(
                f"harness {harness.name!r} failed for agent {self.name!r}: {exc!r}",
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
                "usage": attrs.asdict(result.usage),
                "duration_ms": duration_ms,
                "stop_reason": result.stop_reason,
                "model": result.model,
                "cost_usd": result.cost_usd,
            },
            source,
        )
        if core.barrier is not None:  # a durable journal: the result is written before we go on
            await core.barrier(end_id)
        if self.spec.output is None:
            return result.output
        return parse_output(result.output, self.spec.output, agent=self.name)

    async def _harness_error(self, error: HarnessError, source: SignalSource) -> None:
        await self._core.broker.publish(
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
        scope: trio.CancelScope | None,
    ) -> bool:
        """Handle a failed activation by ``on_error`` and the supervisor; returns whether the
        trigger must run again (a restart)."""
        core = self._core
        self._stats.failed += 1
        on_error = self.spec.on_error
        details = {"agent": self.name, "error": str(error), "error_type": type(error).__name__}
        escalation: OpenHarnessError | None = None
        restart = False
        if on_error == "fail":
            supervisor = core.supervisor
            if supervisor is None:
                escalation = error
            else:
                escalation = supervisor.crash(self.name, error)
                if escalation is not None:
                    escalation.__cause__ = error
                restart = escalation is None
        try:
            await self._publish("agent:failed", details, parent)
            if on_error == "emit":
                assert self.spec.error_signal is not None
                await self._publish(
                    self.spec.error_signal, {**details, "trigger": trigger.name}, parent
                )
            if restart:
                await self._restart_agents(error, parent, scope)
        finally:
            if escalation is not None:
                core.fail(escalation)
        return restart

    async def _restart_agents(
        self, error: OpenHarnessError, parent: str, scope: trio.CancelScope | None
    ) -> None:
        core = self._core
        assert core.supervisor is not None
        strategy = core.supervisor.policy.strategy
        targets = [self] if strategy == "one_for_one" else core.actors
        for actor in targets:
            actor.restart(keep=scope if actor is self else None)
            actor._stats.restarts += 1
        for actor in targets:
            await self._publish(
                "agent:restarted",
                {
                    "agent": actor.name,
                    "strategy": strategy,
                    "restart": core.supervisor.restarts,
                    "cause_agent": self.name,
                    "error": str(error),
                },
                parent,
            )
