"""Running a run under a journal, and resuming an interrupted one.

Resuming run ``R`` re-executes its workflow from the journaled initial state and re-derives
the latest attempt's log exactly: the engine follows its recorded order (the journaled prefix,
signal for signal, whatever the activations raced), answering every harness call that finished
there from the journal instead of the model, then goes on live. Calls that were in flight, or
whose failure ended the attempt, are made again; beyond the prefix, a call an earlier attempt
completed is still answered from the journal, by ask and occurrence. A journal written before
the log order was kept (format 1) is resumed by ask and occurrence only.

The resumed attempt is journaled too (``<run_id>.r<n>``), so a resume can itself be resumed.
Resuming with a changed workflow definition is refused unless ``force=True``; a forced resume
cannot re-derive the old log, so it is resumed by ask and occurrence only. An earlier attempt
whose journal was never finalized (its process was killed) is finalized as ``interrupted``
once the resume holds the run's lock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._core._external import external_groups
from .._core._ports import RunView
from .._core._result import WorkflowResult
from .._core._run import new_run_id
from .._core._schedule import Schedule, schedule_of
from .._errors import StoreError, WorkflowDefinitionError
from ..harness.protocol import EventSink, Harness, HarnessRequest, HarnessResult
from ..recording._ask import Ask
from ..recording._replay import RecordedCall, ReplayIndex, serve_recorded
from ..recording._store import RecordingData, RecordingInfo, SignalStore
from ._fingerprint import describe_changes, fingerprint
from ._journal import JournalPlan, journal_info, list_journals
from ._lock import RunLock

if TYPE_CHECKING:
    from .._budget import RunBudget
    from .._define._options import RunSettings
    from .._define._workflow import Workflow

__all__ = ["ResumeHarness", "ResumeSession", "resume_run", "run_journaled"]


class ResumeSession:
    """The completed calls of every earlier attempt of a run, served by ask and occurrence."""

    def __init__(self, indexes: Sequence[ReplayIndex], *, exact: bool = True) -> None:
        latest = indexes[-1]
        self.schedule: Schedule | None = None
        """The latest attempt's log, to re-derive exactly (format 2 journals)."""
        self.prefix: ReplayIndex | None = None
        if exact and latest.log_format >= 2:
            signals = schedule_of(latest.signals, for_resume=True)
            self.schedule = Schedule(signals, resume=True, recording_id=latest.recording_id)
            self.prefix = ReplayIndex(
                RecordingData(info=attrs.evolve(latest.info), signals=tuple(signals))
            )
        self.view: RunView | None = None
        self._per_activation: Counter[str] = Counter()
        self.calls: dict[Ask, list[RecordedCall]] = {}
        for index in indexes:
            for ask, calls in index.calls.items():
                done = _completed(calls)
                if len(done) > len(self.calls.get(ask, ())):
                    self.calls[ask] = done
        self._seen: Counter[Ask] = Counter()
        self.replayed = 0
        self.live = 0

    def take_for(self, request: HarnessRequest, ask: Ask) -> RecordedCall | None:
        """The journaled answer to ``request``: within the re-derived prefix, the next call of
        the journaled activation it is, if that call finished there; beyond it, by ask and
        occurrence (:meth:`take`); ``None``: call the model."""
        view, prefix = self.view, self.prefix
        recorded = None
        if view is not None and prefix is not None and request.activation_id is not None:
            recorded = view.recorded_id(request.activation_id)
        if recorded is None:
            return self.take(ask)
        assert prefix is not None
        calls = prefix.by_activation.get(recorded, [])
        number = self._per_activation[recorded]
        self._per_activation[recorded] += 1
        self._seen[ask] += 1
        if number < len(calls) and calls[number].ask == ask and calls[number].finished:
            self.replayed += 1
            return calls[number]
        self.live += 1
        return None

    def take(self, ask: Ask) -> RecordedCall | None:
        """The journaled answer to this occurrence of ``ask``, or ``None`` (call it live)."""
        occurrence = self._seen[ask]
        self._seen[ask] += 1
        calls = self.calls.get(ask, ())
        if occurrence < len(calls):
            self.replayed += 1
            return calls[occurrence]
        self.live += 1
        return None


def _completed(calls: Sequence[RecordedCall]) -> list[RecordedCall]:
    """The calls up to the last one that returned a result (trailing failures and calls that
    never finished are not completed: a resume makes them again)."""
    done = list(calls)
    while done and done[-1].result is None:
        done.pop()
    return done


class ResumeHarness:
    """Answers from the journal when it can, else asks ``live`` (which logs the new ask)."""

    def __init__(self, session: ResumeSession, agent: str, live: Harness | None) -> None:
        self._session = session
        self._live = live
        self.name = live.name if live is not None else "replay"
        self.model = getattr(live, "model", None)
        self._agent = agent

    def preflight(self) -> None:
        if self._live is not None:
            self._live.preflight()

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        ask = Ask.of(request)
        call = self._session.take_for(request, ask)
        if call is not None:
            return await serve_recorded(call, ask, request, emit)
        if self._live is None:
            from .._errors import HarnessError

            raise HarnessError(
                f"resuming: agent {request.agent!r} must call its model again but has no harness",
                agent=request.agent,
            )
        return await self._live.run(request, emit)


async def run_journaled(
    workflow: Workflow[Any],
    settings: RunSettings[Any],
    state: Any,
    *,
    run_budget: RunBudget | None = None,
    on_core: Callable[[Any], None] | None = None,
) -> WorkflowResult[Any]:
    """Run ``workflow`` from ``state`` with ``settings`` under a new journal, the one
    ``settings.journal`` names (see ``Workflow.run_reactive``). ``on_core`` is called with the
    built run before it starts (an engine's handle)."""
    assert settings.journal is not None
    journal = settings.journal
    store = journal.resolved_store()
    run_id = settings.run_id or new_run_id()
    current_fp = _fingerprint(workflow, settings)
    with RunLock(store, run_id):
        existing = await list_journals(store, run_id)
        if existing:
            raise WorkflowDefinitionError(
                f"run {run_id!r} already has a journal ({len(existing)} attempt(s)): resume it "
                f"with workflow.resume({run_id!r}, ...) or choose another run_id"
            )
        plan = JournalPlan(
            journal,
            store,
            journal_info(run_id, 0, {"fingerprint": current_fp, "durability": journal.durability}),
        )
        core = workflow._build(
            attrs.evolve(settings, run_id=run_id), state, plan=plan, run_budget=run_budget
        )
        if on_core is not None:
            on_core(core)
        initial = workflow.state_model.to_jsonable(core.initial_state)
        plan.journal_recorder.info = _with_state(plan.journal_recorder.info, initial)
        await plan.create()
        return await plan.execute(core)


async def resume_run(
    workflow: Workflow[Any],
    run_id: str,
    settings: RunSettings[Any],
    *,
    run_budget: RunBudget | None = None,
    force: bool = False,
    signals: Sequence[tuple[str, Mapping[str, Any] | None]] = (),
) -> WorkflowResult[Any]:
    """Resume run ``run_id`` from its journals in ``settings.journal`` (see the module
    docstring). ``signals``: external signals to send once the journaled prefix is re-derived
    (a suspended run).

    Raises :class:`StoreError` when the run has no journal or another process holds it, and
    :class:`WorkflowDefinitionError` when the workflow changed (unless ``force``).
    """
    assert settings.journal is not None
    journal = settings.journal
    store = journal.resolved_store()
    current = _fingerprint(workflow, settings)
    with RunLock(store, run_id):
        journals = await list_journals(store, run_id)
        if not journals:
            raise StoreError(f"no journal for run {run_id!r} in {store!r}", location=run_id)
        first = journals[0]
        changes = describe_changes(first.metadata.get("fingerprint", {}), current)
        if changes and not force:
            raise WorkflowDefinitionError(
                f"cannot resume run {run_id!r}: the workflow changed since it was journaled ("
                + "; ".join(changes)
                + "); pass force=True to resume anyway",
                problems=changes,
            )
        if "initial_state" not in first.metadata:
            raise StoreError(
                f"journal {first.id!r} has no initial state; it was not written by a journaled run",
                location=first.id,
            )
        try:
            state = workflow.state_model.from_jsonable(first.metadata["initial_state"])
        except Exception as exc:
            raise WorkflowDefinitionError(
                f"cannot resume run {run_id!r}: its journaled initial state does not fit "
                f"{workflow.state_model.type_name}: {exc}"
            ) from exc
        indexes = [ReplayIndex(await store.load(info.id)) for info in journals]
        attempt = 1 + max(int(i.metadata.get("journal", {}).get("attempt", 0)) for i in journals)
        info = journal_info(
            run_id,
            attempt,
            {
                "fingerprint": current,
                "durability": journal.durability,
                "initial_state": first.metadata["initial_state"],
                "resumed_from": [i.id for i in journals],
            },
        )
        # A changed definition (force=True) cannot re-derive the old log: resume it by ask.
        session = ResumeSession(indexes, exact=not changes)
        plan = JournalPlan(journal, store, info, resume=session)
        core = workflow._build(
            attrs.evolve(settings, run_id=run_id), state, plan=plan, run_budget=run_budget
        )
        _queue_external(core, session, indexes[-1], signals)
        await plan.create()
        await _finalize_interrupted(store, journals)
        return await plan.execute(core)


def _fingerprint(workflow: Workflow[Any], settings: RunSettings[Any]) -> dict[str, Any]:
    agents = settings.agents if isinstance(settings.agents, Mapping) else {}
    return fingerprint(agents, settings.compiled_reducers(), workflow.state_model)


def _queue_external(
    core: Any,
    session: ResumeSession,
    latest: ReplayIndex,
    signals: Sequence[tuple[str, Mapping[str, Any] | None]],
) -> None:
    """Queue the external signals of the re-derived prefix (each at the wait it followed)
    and, after the last wait, the new ``signals`` (checked against the run's patterns)."""
    external = core.external
    if external is None:
        if signals:
            raise WorkflowDefinitionError(
                f"cannot resume run {core.run_id!r} with signals: pass external=[patterns] "
                "(the run's declared external signals)"
            )
        return
    if session.schedule is None:  # not re-derived exactly: send them all at the first waits
        external.pending.extend(external_groups(latest.signals))
    # (else the run queued the prefix's own when it took the schedule: ExternalInput.follow)
    if not external.pending:
        external.pending.append([])
    external.pending[-1].extend((name, external.check(name, payload)) for name, payload in signals)


INTERRUPTED = "interrupted"
"""Status given to an earlier attempt's journal that was never finalized (its process was
killed): holding the run's lock proves nothing writes it any more."""


async def _finalize_interrupted(store: SignalStore, journals: Sequence[RecordingInfo]) -> None:
    for earlier in journals:
        if not earlier.finished:
            await store.finalize(earlier.id, status=INTERRUPTED)


def _with_state(info: Any, initial: Any) -> Any:
    return attrs.evolve(info, metadata={**info.metadata, "initial_state": initial})
