"""Embedding: a long-lived engine inside the host's nursery, and handles to started runs.

``async with open_engine() as engine:`` opens a nursery in the calling task; ``await
engine.start(workflow, ...)`` validates and starts a run in it and returns a :class:`RunHandle`
at once. A handle streams the run's signals (``async for s in run.signals("text:*")``), can be
cancelled, receives external signals (``await run.send(name, payload)``, for a run
started with ``external=[patterns]``), and is awaited for the result. Leaving the ``async with`` block waits for the runs
still going, like a nursery; cancel them first to leave at once. A run's failure is kept in its
handle (raised by :meth:`RunHandle.result`) and never crashes the host.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar, Unpack

import attrs
import trio

from ._core._nursery import open_quiet_nursery
from ._core._reporting import Reporter
from ._core._result import WorkflowResult
from ._core._run import RunCore
from ._core._signal_log import LogCursor
from ._define._agent import AgentSpec
from ._define._options import ENGINE, RunKeywords, RunSettings, settings_for
from ._define._pattern import PatternLike
from ._define._workflow import Workflow
from ._errors import WorkflowCancelledError

__all__ = ["Engine", "EngineStatistics", "RunHandle", "open_engine"]

S = TypeVar("S")


class RunHandle(Generic[S]):
    """A run started on an :class:`Engine`."""

    def __init__(self, core: RunCore) -> None:
        self._core = core
        self._done = trio.Event()
        self._result: WorkflowResult[S] | None = None
        self._error: BaseException | None = None

    @property
    def run_id(self) -> str:
        return self._core.run_id

    @property
    def done(self) -> bool:
        """Whether the run has ended (any outcome)."""
        return self._done.is_set()

    @property
    def status(self) -> str:
        """``"pending"`` until the run ends, then its final status."""
        return self._core.status

    @property
    def state(self) -> S:
        """The current state snapshot (the final one once done)."""
        state: S = self._core.state
        return state

    def signals(self, pattern: PatternLike | None = None, *, start: int = 0) -> LogCursor:
        """Stream the run's signals matching ``pattern``, from log index ``start`` (by default
        from ``workflow:start``, whenever you subscribe); the stream ends after
        ``workflow:end``. Reading slowly never slows the run."""
        return self._core.log.follow(pattern, start=start)

    def cancel(self) -> None:
        """Cancel the run; :meth:`result` then raises :class:`WorkflowCancelledError`."""
        self._core.cancel_scope.cancel()

    @property
    def awaited(self) -> tuple[str, ...]:
        """The declared ``external`` patterns some agent listens on: what the run waits for
        when it is quiet (empty without ``external=``, or once :meth:`end_input` was called)."""
        external = self._core.external
        return () if external is None or external.input_ended else external.awaited

    @property
    def waiting(self) -> bool:
        """Whether the run waits for an external signal now: its last logged signal is
        ``workflow:waiting`` and nothing is under way. It turns ``False`` as soon as a
        :meth:`send` is made (before that ``send`` returns, with no checkpoint in between),
        so a host that checks it and then sends, without awaiting in between, answers each
        wait once."""
        core = self._core
        logged = core.log.signals
        return (
            not self.done
            and bool(self.awaited)
            and bool(logged)
            and logged[-1].name == "workflow:waiting"
            and core.work.quiet()
        )

    async def send(self, name: str, payload: Mapping[str, Any] | None = None) -> str:
        """Send external signal ``name`` into the run (it must match the run's
        ``external=`` patterns); returns the signal's id once it is queued for the log.

        The signal has ``source.agent = None`` and ``source.harness = "external"``. Raises
        :class:`ExternalSignalError` (an ``OpenHarnessError`` and a ``ValueError``) for an
        undeclared or engine name, a payload with no JSON form, or a run that has ended;
        nothing enters the log then.
        """
        return await self._core.send(name, payload)

    async def end_input(self) -> None:
        """No more external signals: a waiting run ends (``completed``) at its next
        quiescence instead of waiting."""
        self._core.end_input()
        await trio.lowlevel.checkpoint()

    async def wait(self) -> None:
        """Wait until the run has ended, without raising its error."""
        await self._done.wait()

    async def result(self) -> WorkflowResult[S]:
        """Wait for the run and return its result, or raise the error that ended it (with
        ``partial``)."""
        await self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def _fail(self, exc: BaseException) -> None:
        if isinstance(exc, trio.Cancelled):
            self._error = WorkflowCancelledError(
                f"run {self.run_id} was cancelled by its engine's host", partial=self._core.result
            )
        else:
            self._error = exc


@attrs.frozen
class EngineStatistics:
    """A snapshot of an engine: runs started, running and finished."""

    started: int
    running: int
    finished: int


class Engine:
    """Runs workflows inside the host's nursery; made by :func:`open_engine`."""

    def __init__(self, nursery: trio.Nursery, reporters: Sequence[Reporter]) -> None:
        self._nursery = nursery
        self._reporters = tuple(reporters)
        self._handles: set[RunHandle[Any]] = set()
        self._started = 0
        self._finished = 0

    async def start(
        self,
        workflow: Workflow[S],
        *,
        agents: Mapping[str, AgentSpec],
        state: S | Mapping[str, Any],
        **options: Unpack[RunKeywords[S]],
    ) -> RunHandle[S]:
        """Validate and start a run of ``workflow``; ``agents``, ``state`` and ``options`` are
        those of :meth:`Workflow.run_reactive`, every one of them: with ``journal=`` the run
        is journaled (resume it with :meth:`Workflow.resume`), with ``budget=`` its result
        raises :class:`BudgetExceededError` once the budget refused a call. Engine reporters
        are added to the run's.

        Raises :class:`WorkflowDefinitionError` (:class:`UnknownOptionError` for an option it
        does not take), or :class:`StoreError` when a recording to replay is missing or the
        run's journal exists already, here, before anything starts.
        """
        settings: RunSettings[S] = settings_for(ENGINE, agents, options)
        if self._reporters:
            settings = attrs.evolve(settings, reporters=(*self._reporters, *settings.reporters))
        name = "openharness run" + (f" {settings.run_id}" if settings.run_id else "")
        started: RunHandle[S] = await self._nursery.start(
            self._run, workflow, settings, state, name=name
        )
        return started

    async def _run(
        self,
        workflow: Workflow[Any],
        settings: RunSettings[Any],
        state: Any,
        task_status: trio.TaskStatus[RunHandle[Any]] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """One run, the way every run goes (``Workflow._execute``): the handle is handed out
        once the run is built; an error before that is raised by :meth:`start`, one after it
        is kept in the handle (host cancellation still propagates)."""
        handle: RunHandle[Any] | None = None

        def on_core(core: RunCore) -> None:
            nonlocal handle
            handle = RunHandle(core)
            self._handles.add(handle)
            self._started += 1
            task_status.started(handle)

        try:
            result = await workflow._execute(settings, state, on_core=on_core)
        except BaseException as exc:
            if handle is None:
                raise
            handle._fail(exc)
            if not isinstance(exc, Exception):  # host cancellation, KeyboardInterrupt
                raise
        else:
            assert handle is not None
            handle._result = result
        finally:
            if handle is not None:
                handle._done.set()
                self._handles.discard(handle)
                self._finished += 1

    def cancel_all(self) -> None:
        """Cancel every run still going."""
        for handle in list(self._handles):
            handle.cancel()

    def statistics(self) -> EngineStatistics:
        return EngineStatistics(self._started, len(self._handles), self._finished)


@asynccontextmanager
async def open_engine(*, reporters: Sequence[Reporter] = ()) -> AsyncIterator[Engine]:
    """Open an engine in the calling task; see the module docstring. ``reporters`` are
    attached to every run it starts."""
    async with open_quiet_nursery() as nursery:
        yield Engine(nursery, reporters)
