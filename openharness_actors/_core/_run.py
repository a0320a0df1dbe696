"""One run: the supervisor nursery that owns the broker, the state actor and the agent actors.

:class:`RunCore` wires the actors together, waits for the end (exact quiescence, a failure,
``end_when``, the timeout or a cancellation), then — shielded and bounded, whatever the
outcome — logs what was still queued, writes ``workflow:end``, lets reporters catch up and
builds the :class:`WorkflowResult`. Nothing it starts outlives it.

It owns the run's bookkeeping (work count, activation count, failures, ending flags); it does
not route signals (broker), write state (state actor) or call harnesses (agent actors).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import attrs
import trio

from .._define._agent import AgentSpec
from .._define._check import self_wake_note
from .._define._pattern import Pattern
from .._define._state import StateModel
from .._errors import (
    ActivationLimitError,
    ExternalSignalError,
    OpenHarnessError,
    WorkflowCancelledError,
    WorkflowTimeoutError,
)
from .._logging import get_logger, may_log
from ..harness.protocol import Harness
from ._activation import Activation
from ._agent_actor import AgentActor
from ._broker import Broker
from ._extension import RunExtension
from ._external import ExternalInput
from ._nursery import open_quiet_nursery
from ._quiescence import WorkCounter
from ._reporting import Reporter, ReporterFeed
from ._result import AgentMetrics, Metrics, WorkflowResult
from ._routing import RoutingTable
from ._run_end import finish_run
from ._schedule import ScheduleFollower
from ._signal import Signal, SignalSource
from ._signal_log import SignalLog
from ._state_actor import INITIAL_CHECK, StateActor
from ._supervisor import RestartPolicy, Supervisor
from ._usage import Usage

__all__ = ["DEFAULT_MAX_ACTIVATIONS", "AgentStats", "RunCore", "RunOptions"]

DEFAULT_MAX_ACTIVATIONS = 10_000
"""The default loop bound of a run (``max_activations``); ``None`` means unbounded."""


@attrs.define
class AgentStats:
    """Mutable per-agent counters of one run (frozen into :class:`AgentMetrics` at the end)."""

    activations: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    skipped: int = 0
    retries: int = 0
    restarts: int = 0
    duration_ms: float = 0.0
    usage: Usage = Usage()
    cost_usd: float | None = None

    def freeze(self) -> AgentMetrics:
        """The frozen figures (the two classes have the same fields, in the same order,
        pinned by a test; positional, as ``attrs.asdict`` costs more than the rest of it)."""
        return AgentMetrics(
            self.activations,
            self.completed,
            self.failed,
            self.cancelled,
            self.skipped,
            self.retries,
            self.restarts,
            self.duration_ms,
            self.usage,
            self.cost_usd,
        )


@attrs.frozen
class RunOptions:
    """Validated options of one run, as the core needs them (built by ``Workflow.prepare``
    from the user's options; see ``openharness_actors._define._options``)."""

    agents: Mapping[str, AgentSpec]
    harnesses: Mapping[str, Harness | None]
    state: Any
    routing: RoutingTable
    reducers: Sequence[tuple[Pattern, Callable[[Any, Signal], Any]]] = ()
    end_when: Callable[[Any], Any] | None = None
    on_end: str = "cancel"
    restart: RestartPolicy | None = None
    timeout: float | None = None
    max_activations: int | None = DEFAULT_MAX_ACTIVATIONS
    reporters: Sequence[Reporter] = ()
    run_id: str | None = None
    mailbox_size: int = 64
    inbox_size: int = 4096
    observers: Sequence[Callable[[Signal], None]] = ()
    extensions: Sequence[RunExtension] = ()
    external: ExternalInput | None = None


def new_run_id() -> str:
    """A fresh run id (``"run_…"``)."""
    return "run_" + uuid.uuid4().hex[:16]


class RunCore:
    """One run: it owns the actors and the run's bookkeeping and implements the narrow ports
    they are typed against (:mod:`._ports`); see the module docstring."""

    # Slots, not a __dict__: with more than 30 attributes an instance dict is not key-shared
    # in CPython, and it was the largest single object of a run. A new attribute must be
    # listed here.
    __slots__ = (
        "_extensions",
        "_feeds",
        "_start_id",
        "activations",
        "active",
        "actors",
        "barrier",
        "broker",
        "cancel_scope",
        "cancellable",
        "ending",
        "extension_errors",
        "external",
        "failures",
        "following",
        "initial_state",
        "log",
        "log_state",
        "mailboxes",
        "nursery",
        "options",
        "publish",
        "recording_id",
        "refused_ids",
        "result",
        "routing",
        "run_id",
        "started_at",
        "state_actor",
        "state_model",
        "stats",
        "status",
        "stopping",
        "supervisor",
        "terminated_early",
        "warnings",
        "work",
    )

    def __init__(self, state_model: StateModel, options: RunOptions) -> None:
        self.run_id = options.run_id or new_run_id()
        self.state_model = state_model
        self.options = options
        self.initial_state = options.state
        self.log_state = options.state
        """The state as of the end of the log (set when a ``state:*:changed`` is logged)."""
        self.routing = options.routing
        self.log = SignalLog()
        self.work = WorkCounter()
        self.cancel_scope = trio.CancelScope()
        self.ending = False
        self.stopping = False
        self.following = False
        self.terminated_early = False
        self.failures: list[OpenHarnessError] = []
        self.status = "pending"
        self.started_at: float | None = None
        self.result: WorkflowResult[Any] | None = None
        self.recording_id: str | None = None
        self.barrier: Callable[[str], Awaitable[None]] | None = None
        """A durable journal's hook: ``await barrier(signal_id)`` returns once that signal
        is durably written. Activations await it after a harness result, the state actor
        after a change."""
        self.extension_errors: list[BaseException] = []
        self.warnings: list[str] = []
        """Problems that did not fail the run (``WorkflowResult.warnings``, see ``_run_end``)."""
        self.nursery: trio.Nursery | None = None
        self.activations = 0
        self.active: dict[str, Activation] = {}
        self.refused_ids: dict[str, str] = {}
        self._start_id: str | None = None
        self.external = options.external
        """The run's external input (``external=``), or ``None``: see ``_await_input``."""
        self.stats = {name: AgentStats() for name in options.agents}
        self.broker = Broker(self, options.inbox_size)
        self.publish = self.broker.publish
        self.broker.observers.extend(options.observers)
        self.state_actor = StateActor(
            self,
            self.work,
            state_model,
            options.state,
            options.reducers,
            options.end_when,
            options.on_end,
        )
        self.actors = [
            AgentActor(
                self,
                self.work,
                name,
                spec,
                options.harnesses.get(name),
                self.stats[name],
                options.mailbox_size,
            )
            for name, spec in options.agents.items()
        ]
        self.mailboxes = [actor.mailbox for actor in self.actors]
        self.supervisor = Supervisor(self, options.restart, options.on_end)
        self._feeds = [ReporterFeed(r, self.log, self.run_id) for r in options.reporters]
        self._extensions = tuple(options.extensions)
        for extension in self._extensions:
            extension.attach(self)
            self.broker.observers.append(extension.observe)
            recording_id = getattr(extension, "recording_id", None)
            if recording_id is not None:
                self.recording_id = recording_id
            barrier = getattr(extension, "barrier", None)
            if barrier is not None:
                self.barrier = barrier
            store_check = getattr(extension, "store_check", None)
            if store_check is not None:
                self.broker.check = store_check
            schedule = getattr(extension, "schedule", None)
            if schedule is not None:
                follower = ScheduleFollower(
                    schedule.signals, resume=schedule.resume, recording_id=schedule.recording_id
                )
                follower.work = self.work
                self.broker.follower = follower
                self.following = True
                if self.external is not None:
                    self.external.follow(schedule.signals, resume=schedule.resume)

        self.cancellable = (
            self.following or options.restart is not None or options.end_when is not None
        )
        """Whether anything but the run's own end can cancel one activation (a restart,
        ``workflow:terminating``, a replayed cancellation); when not, activations run
        without a cancel scope of their own and are not registered."""

    # -- the ports the actors use (see ._ports) -----------------------------------------

    @property
    def state(self) -> Any:
        """The state as the state actor holds it (the final state once the run is over)."""
        return self.state_actor.state

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    @property
    def store_check(self) -> Callable[[str, dict[str, Any], str | None], None] | None:
        """The recorder's check of storable values, when the run is recorded."""
        return self.broker.check

    def warn(self, message: str) -> None:
        """Record a problem that does not fail the run (``WorkflowResult.warnings``)."""
        self.warnings.append(message)

    @property
    def agent_names(self) -> list[str]:
        return list(self.options.agents)

    def fail(self, error: OpenHarnessError) -> None:
        """Record a failure and end the run (the supervisor nursery cancels everything)."""
        self.failures.append(error)
        self.stopping = True
        self.work.idle.set()

    def register(self, activation: Activation) -> None:
        self.active[activation.id] = activation

    def unregister(self, activation: Activation) -> None:
        self.active.pop(activation.id, None)

    def refuse(self, activation: Activation) -> None:
        """The broker turned ``activation``'s ``agent:activated`` into a skip: stop it, and
        drop what it publishes from now on."""
        self.refused_ids[activation.id] = activation.agent
        if activation.scope is not None:
            activation.scope.cancel()
        # Without a scope (no end_when, restart or schedule: see ``cancellable``) only the
        # activation limit refuses, and it fails the run, whose cancellation stops it.

    async def logged(self, signal_id: str) -> None:
        await self.broker.logged(signal_id)

    def recorded_id(self, signal_id: str) -> str | None:
        """While following a schedule: the recorded id of logged signal ``signal_id``."""
        follower = self.broker.follower
        return None if follower is None else follower.recorded_id(signal_id)

    async def wait_idle(self) -> None:
        await self.work.idle.wait()

    def admission_refused(self, agent: str) -> str | None:
        """Admit an activation of ``agent`` at its place in the log, or say why not
        (``run ending``; ``activation limit``, which also fails the run)."""
        if self.ending:
            return "run ending"
        limit = self.options.max_activations
        if limit is not None and self.activations >= limit:
            busiest = sorted(
                ((name, stats.activations) for name, stats in self.stats.items()),
                key=lambda item: (-item[1], item[0]),
            )
            top = ", ".join(f"{name} ({count})" for name, count in busiest[:3] if count)
            note = self_wake_note(self.options.agents, (name for name, _ in busiest[:3]))
            if not self.failed:
                self.fail(
                    ActivationLimitError(
                        f"run {self.run_id} reached max_activations={limit} (probably a "
                        f"signal loop); busiest agents: {top}; refused activation of "
                        f"{agent!r}{note}",
                        limit=limit,
                        busiest=busiest,
                    )
                )
            return "activation limit"
        self.activations += 1
        self.stats[agent].activations += 1
        return None

    # -- the run ------------------------------------------------------------------------

    async def execute(self) -> WorkflowResult[Any]:
        """Run to the end and return the result, or raise the run's error with ``partial``.

        Host cancellation (and ``KeyboardInterrupt``) propagates after the shielded cleanup.
        """
        self.started_at = trio.current_time()
        if may_log(logging.DEBUG):  # two events per run: skipped cheaply when dropped
            get_logger(run_id=self.run_id).debug("run_started", agents=list(self.options.agents))
        if not self._feeds:
            # No reporter tasks to own, so no nursery for them: per-run memory and setup
            # time count when thousands of runs share a process.
            return self._outcome(await self._run_and_finish())
        async with open_quiet_nursery() as reporters:
            for feed in self._feeds:
                reporters.start_soon(feed.run)
            status = await self._run_and_finish()
            reporters.cancel_scope.cancel()
        return self._outcome(status)

    async def _run_and_finish(self) -> str:
        """Supervise the run, then — shielded, whatever the outcome — finish it."""
        status = "cancelled"
        try:
            status = await self._supervise()
        except OpenHarnessError as error:
            # An actor task raised a run error (a publish refused by the recorder's check, a
            # journal that cannot be written): the run fails with it, with its partial.
            if error not in self.failures:
                self.fail(error)
            status = "failed"
        except Exception:
            status = "failed"
            raise
        finally:
            with trio.CancelScope(shield=True):
                self._finish(status)
                status = await finish_run(self, status, self._extensions, self._feeds)
        return status

    async def _supervise(self) -> str:
        suspended = False
        timeout = self.options.timeout
        # A deadline scope only when there is a timeout: entering a cancel scope costs time.
        deadline = None if timeout is None else trio.move_on_after(timeout)
        with self.cancel_scope:
            with deadline if deadline is not None else contextlib.nullcontext():
                async with open_quiet_nursery() as nursery:
                    self.nursery = nursery
                    nursery.start_soon(self.broker.run)
                    nursery.start_soon(self.state_actor.run)
                    for actor in self.actors:
                        nursery.start_soon(actor.run, nursery)
                    for extension in self._extensions:
                        nursery.start_soon(extension.run)
                    self._start_id = await self.broker.publish(
                        "workflow:start",
                        {
                            "agents": list(self.options.agents),
                            "state": self.state_model.to_jsonable(self.initial_state),
                        },
                        SignalSource(),
                        INITIAL_CHECK,
                    )
                    external = self.external
                    if external is not None and external.pending:  # a resume's early sends
                        await self._send_group(external, external.pending.popleft())
                    await self.work.idle.wait()
                    if external is not None:  # the one check of a run without input
                        suspended = await self._await_input(external)
                    self._check_schedule()
                    if self._quiet_end():
                        # Every actor is parked on its empty mailbox: let them return
                        # (a third of the cost of cancelling a task each).
                        self.broker.stop()
                        self.state_actor.stop()
                        for mailbox in self.mailboxes:
                            mailbox.close()
                    else:
                        nursery.cancel_scope.cancel()
            if deadline is not None and deadline.cancelled_caught:
                return "timeout"
        if self.cancel_scope.cancelled_caught:
            return "cancelled"
        if self.failures:
            return "failed"
        if self.terminated_early:
            return "terminated"
        return "suspended" if suspended else "completed"

    def _quiet_end(self) -> bool:
        """Whether the run ends at true quiescence with only its actors' tasks left (no
        failure, no schedule followed, no extension task): then nothing is queued, nothing
        runs, and every actor can simply be told to return instead of being cancelled."""
        return (
            not self.stopping
            and not self.following
            and not self._extensions
            and self.work.pending == 0
            and self.broker.caught_up
        )

    # -- external input (see ._external) ------------------------------------------------

    async def _await_input(self, external: ExternalInput) -> bool:
        """At quiescence, while some agent listens on a declared external pattern and input
        has not ended: log ``workflow:waiting`` and wait for the next send (or, under
        ``on_wait="suspend"``, return ``True``: the run ends suspended). A resume first sends,
        at each wait, what the earlier attempt received after it (``external.pending``)."""
        work = self.work
        while external.waiting() and not (self.ending or self.stopping or self.failed):
            work.idle = trio.Event()
            await self.publish(
                "workflow:waiting",
                {"patterns": list(external.awaited)},
                SignalSource(None, None, self._start_id),
            )
            await work.idle.wait()
            if self.ending or self.stopping or self.failed:
                break
            work.idle = trio.Event()
            group = external.pending.popleft() if external.pending else []
            await self._send_group(external, group)
            if not group and work.quiet():  # (a send may have come in meanwhile)
                if external.suspend:
                    return True
                if external.input_ended or external.replaying:
                    break
            await work.idle.wait()  # a send's work, all it caused, done; or end_input
        return False

    async def _send_group(
        self, external: ExternalInput, group: Sequence[tuple[str, dict[str, Any]]]
    ) -> None:
        for name, payload in group:
            await self.publish(name, payload, external.source(self._start_id))

    async def send(self, name: str, payload: Mapping[str, Any] | None = None) -> str:
        """Publish external signal ``name`` (see ``RunHandle.send``); returns its id."""
        external = self.external
        if external is None:
            raise ExternalSignalError(
                f"cannot send {name!r}: run {self.run_id} declares no external signals "
                "(start it with external=[patterns])",
                name=name,
            )
        data = external.check(name, payload)
        if self._start_id is None:
            await self.log.wait_beyond(0)  # a send right after start comes after it
        if self.status != "pending" or self.stopping or self.log.closed:
            raise ExternalSignalError(
                f"cannot send {name!r}: run {self.run_id} has ended (status {self.status!r})",
                name=name,
                patterns=external.patterns,
            )
        return await self.publish(name, data, external.source(self._start_id))

    def end_input(self) -> None:
        """No more external signals: the run ends at its next quiescence."""
        external = self.external
        if external is None or external.input_ended:
            return
        external.input_ended = True
        if self._start_id is not None and self.work.quiet():  # waiting now: stop
            self.work.idle.set()

    def _check_schedule(self) -> None:
        """At the end of a run that follows a schedule: a divergence found on the way, or a
        schedule not followed to its end (stuck, or the run did less), fails the run."""
        follower = self.broker.follower
        if follower is None or self.failed:
            return
        for extension in self._extensions:
            # An extension may know the cause better (a harness ask that did not match).
            divergence = getattr(extension, "divergence", None)
            if divergence is not None and not follower.exhausted:
                self.fail(divergence)
                return
        if follower.divergence is not None:
            self.fail(follower.divergence)
        elif follower.following and not follower.exhausted:
            self.fail(follower.stuck_error())

    def _finish(self, status: str) -> None:
        self.status = status
        self.broker.drain()
        assert self.started_at is not None
        duration_ms = (trio.current_time() - self.started_at) * 1000
        payload: dict[str, Any] = {
            "duration_ms": duration_ms,
            "activations": self.activations,
            "state": self.state_model.to_jsonable(self.state),
            "status": status,
        }
        if self.failures:
            payload["error"] = str(self.failures[0])
            payload["error_type"] = type(self.failures[0]).__name__
            payload["errors"] = [
                {
                    "error": str(e),
                    "error_type": type(e).__name__,
                    "agent": getattr(e, "agent", None),
                }
                for e in self.failures
            ]
        self.broker.log_now("workflow:end", payload, SignalSource(None, None, self._start_id))
        self.log.close()
        for feed in self._feeds:
            feed.flush()
        self.result = self._build_result(status, duration_ms)
        if may_log(logging.INFO):
            get_logger(run_id=self.run_id).info(
                "run_finished",
                status=status,
                duration_ms=round(duration_ms, 3),
                activations=self.activations,
                signals=len(self.log),
            )

    def _build_result(self, status: str, duration_ms: float) -> WorkflowResult[Any]:
        agents = {name: stats.freeze() for name, stats in self.stats.items()}
        costs = [f.cost_usd for f in agents.values() if f.cost_usd is not None]
        usage = Usage.total(f.usage for f in agents.values())
        metrics = Metrics(
            duration_ms=duration_ms,
            activations=self.activations,
            agents=agents,
            usage=usage,
            signals=len(self.log),
            signals_by_name=dict(self.broker.counts),
            cost_usd=sum(costs) if costs else None,
        )
        return WorkflowResult(
            state=self.state,
            signals=tuple(self.log.signals),
            metrics=metrics,
            run_id=self.run_id,
            status=status,
            terminated_early=self.terminated_early,
            recording_id=self.recording_id,
        )

    def _outcome(self, status: str) -> WorkflowResult[Any]:
        result = self.result
        assert result is not None
        if status == "timeout":
            elapsed = result.metrics.duration_ms / 1000
            raise WorkflowTimeoutError(
                f"run {self.run_id} timed out after {elapsed:.3f}s "
                f"(timeout={self.options.timeout}s)",
                elapsed=elapsed,
                partial=result,
            )
        if status == "cancelled":
            raise WorkflowCancelledError(f"run {self.run_id} was cancelled", partial=result)
        if status == "failed":
            error = self.failures[0]
            error.partial = result
            if len(self.failures) > 1 and not error.failures:
                error.failures = tuple(self.failures)
                for other in self.failures[1:]:
                    error.add_note(f"also failed: {type(other).__name__}: {other}")
            raise error
        return result
