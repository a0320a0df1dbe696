"""The durable journal of a run, and how a journaled run is wired.

A journal is a recording (the run's signal log, asks included) written with a durability
guarantee, so that an interrupted run can be resumed (``_resume``):

* ``durability="sync"`` (the default): every completed harness result and every committed
  state change is written to the store before the run moves on — an activation waits for its
  ``harness:end`` to be written before it commits, and for its ``state:*:changed`` before it
  emits; the state actor waits for a reducer's change before going on. A process killed at any
  point loses no completed harness call.
* ``"async"``: written in batches in the background (a few tens of milliseconds behind).
* ``"exit"``: written only when the run ends (for any reason but a kill).

A run's journals are recordings named after its ``run_id`` and tagged ``journal``: the first
has the run id as its id, each resume adds ``<run_id>.r<n>``. While a journaled run executes it
holds the run's lock (``_lock``), so no two processes run or resume it at once.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

import attrs
import trio

from .._core._extension import RunExtension
from .._core._signal import Signal
from .._errors import StoreError, WorkflowDefinitionError
from ..harness.protocol import Harness
from ..recording._config import Recording, default_store
from ..recording._plan import RecordingPlan
from ..recording._recorder import ON_WRITE_ERROR, OnWriteError, Recorder, RecordingHarness
from ..recording._store import RecordingInfo, SignalStore, check_recording_id

if TYPE_CHECKING:
    from .._core._ports import RunView
    from .._core._result import WorkflowResult
    from .._core._run import RunCore
    from .._core._schedule import Schedule

__all__ = ["JOURNAL_TAG", "Durability", "Journal", "JournalPlan", "JournalRecorder"]

JOURNAL_TAG = "journal"
Durability = Literal["sync", "async", "exit"]


@attrs.frozen
class Journal:
    """The ``journal=`` option of a run: where (``store``, default: the embedded SQLite
    store) and how durably (``durability``) to journal it. ``on_write_error``: a journal that
    cannot be written fails the run with :class:`StoreError` (``"fail"``, the default; a
    ``sync`` journal fails it at the first write that fails) or only adds a warning to
    ``WorkflowResult.warnings`` (``"warn"``: the run goes on unjournaled). Raises
    :class:`WorkflowDefinitionError` for an unknown durability or a non-store."""

    store: SignalStore | None = None
    durability: Durability = "sync"
    on_write_error: OnWriteError = "fail"

    def __attrs_post_init__(self) -> None:
        if self.durability not in ("sync", "async", "exit"):
            raise WorkflowDefinitionError(
                f"journal durability must be 'sync', 'async' or 'exit', not {self.durability!r}"
            )
        if self.store is not None and not isinstance(self.store, SignalStore):
            raise WorkflowDefinitionError(f"journal store {self.store!r} is not a SignalStore")
        if self.on_write_error not in ON_WRITE_ERROR:
            raise WorkflowDefinitionError(
                f"journal on_write_error must be 'fail' or 'warn', not {self.on_write_error!r}"
            )

    def resolved_store(self) -> SignalStore:
        return self.store if self.store is not None else default_store()


class JournalRecorder(Recorder):
    """A :class:`Recorder` that can wait until a given signal is durably written."""

    def __init__(
        self,
        store: SignalStore,
        info: RecordingInfo,
        durability: Durability,
        on_write_error: OnWriteError = "fail",
    ) -> None:
        exit_only = durability == "exit"
        super().__init__(
            store,
            info,
            batch_size=2**62 if exit_only else 256,
            flush_interval=math.inf if exit_only else 0.05,
            on_write_error=on_write_error,
        )
        self._durability = durability
        self.barrier: Callable[[str], Awaitable[None]] | None = None
        self.resume_session: Any = None
        self._watched: dict[str, int] = {}
        self._written_through = -1
        self._failed_through = -1
        self._progress = trio.lowlevel.ParkingLot()

    def attach(self, run: RunView) -> None:
        super().attach(run)
        if self._durability == "sync":
            self.barrier = self.durable
        if self.resume_session is not None:
            self.resume_session.view = run

    @property
    def schedule(self) -> Schedule | None:
        """The journaled prefix a resumed attempt re-derives (see ``_resume``)."""
        session = self.resume_session
        return None if session is None else session.schedule

    def observe(self, signal: Signal) -> None:
        super().observe(signal)
        if self._durability == "sync" and (
            signal.name == "harness:end" or signal.name.startswith("state:")
        ):
            self._watched[signal.id] = signal.seq
            self._progress.unpark_all()

    @property
    def _kind(self) -> str:
        return "journal"

    async def durable(self, signal_id: str) -> None:
        """Return once signal ``signal_id`` (published already) is written to the store.

        Raises :class:`StoreError` when the write failed: a sync journal that cannot write
        must not let the run go on — unless ``on_write_error="warn"``, where it returns (the
        run goes on; ``finish`` reports what stayed unwritten as a warning).
        """
        while signal_id not in self._watched:
            await self._progress.park()
        seq = self._watched.pop(signal_id)
        while self._written_through < seq:
            if self._failed_through >= seq:
                if self.on_write_error == "warn":
                    return
                raise StoreError(
                    f"journal {self.recording_id!r} in {self.store!r} could not be written: "
                    f"{self.errors[-1]}",
                    location=self.recording_id,
                ) from self.errors[-1]
            self._full.set()
            self._dirty.set()
            await self._progress.park()

    async def _flush(self) -> None:
        last = self._buffer[-1].seq if self._buffer else None
        await super()._flush()
        if last is not None:
            if not self._buffer or self._buffer[0].seq > last:
                self._written_through = max(self._written_through, last)
            else:
                self._failed_through = max(self._failed_through, last)
        self._progress.unpark_all()


class JournalPlan(RecordingPlan):
    """Wires one journaled run: harnesses log their asks, the journal recorder writes the log
    durably, and the run holds its lock while it executes. ``resume`` (a
    :class:`~._resume.ResumeSession`) answers the asks an earlier attempt completed."""

    def __init__(
        self,
        journal: Journal,
        store: SignalStore,
        info: RecordingInfo,
        *,
        resume: Any = None,
    ) -> None:
        super().__init__(Recording(mode="live"), "journal", store=store, recording_id=info.id)
        self.journal = journal
        self.resume = resume
        self.journal_recorder = JournalRecorder(
            store, info, journal.durability, journal.on_write_error
        )
        self.journal_recorder.resume_session = resume
        self._harness_wrappers: dict[int, Harness] = {}

    def harness_for(
        self, agent: str, chosen: Harness | None, needs_harness: bool
    ) -> Harness | None:
        if not needs_harness:
            return chosen
        live: Harness | None = None
        if chosen is not None:
            live = self._harness_wrappers.get(id(chosen))
            if live is None:
                live = self._harness_wrappers[id(chosen)] = RecordingHarness(chosen)
        if self.resume is None:
            return live
        from ._resume import ResumeHarness

        return ResumeHarness(self.resume, agent, live)

    def extensions(self) -> tuple[RunExtension, ...]:
        return (self.journal_recorder,)

    async def execute(self, core: RunCore) -> WorkflowResult[Any]:
        return await core.execute()

    async def create(self) -> None:
        """Create the journal in the store before the run starts, so a run killed at any
        point can be resumed."""
        recorder = self.journal_recorder
        await recorder.store.create(recorder.info)
        recorder.mark_created()


def journal_info(run_id: str, attempt: int, metadata: dict[str, Any]) -> RecordingInfo:
    """The recording info of attempt ``attempt`` (0: the first run) of ``run_id``."""
    recording_id = run_id if attempt == 0 else f"{run_id}.r{attempt}"
    try:
        check_recording_id(recording_id)
    except StoreError as exc:
        raise WorkflowDefinitionError(f"run_id {run_id!r} cannot name a journal: {exc}") from None
    return RecordingInfo(
        id=recording_id,
        name=run_id,
        tags=(JOURNAL_TAG,),
        run_id=run_id,
        metadata={**metadata, "journal": {"run_id": run_id, "attempt": attempt}},
    )


async def list_journals(store: SignalStore, run_id: str) -> list[RecordingInfo]:
    """Every journal of ``run_id``, oldest attempt first."""
    found: list[RecordingInfo] = []
    offset = 0
    while True:
        page = await store.list(name=run_id, tags=[JOURNAL_TAG], limit=100, offset=offset)
        found.extend(page)
        if len(page) < 100:
            break
        offset += len(page)
    return sorted(found, key=lambda info: int(info.metadata.get("journal", {}).get("attempt", 0)))
