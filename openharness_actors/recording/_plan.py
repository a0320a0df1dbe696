"""Turning a run's ``recording=`` option into harness choices and run extensions.

``resolve_recording`` (async: it may read the store) decides the mode for one run and returns
a :class:`RecordingPlan`; ``Workflow.prepare`` asks the plan which harness each agent gets
(:meth:`RecordingPlan.harness_for`) and which extensions to attach. A plan serves one run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core._extension import RunExtension
from .._errors import (
    OpenHarnessError,
    ReplayDivergenceError,
    StoreError,
    WorkflowDefinitionError,
)
from ..harness.protocol import Harness
from ._config import Recording, default_store
from ._recorder import Recorder, RecordingHarness
from ._replay import ReplayExtension, ReplayHarness, ReplayIndex, ReplaySession
from ._store import RecordingData, RecordingInfo, SignalStore, new_recording_id

if TYPE_CHECKING:
    from .._core._result import WorkflowResult
    from .._core._run import RunCore

__all__ = ["RecordingOption", "RecordingPlan", "plan_recording", "resolve_recording"]


class RecordingPlan:
    """What one run does about recording: ``mode`` is ``"live"``, ``"record"`` or
    ``"replay"`` (``"auto"`` is decided by then). ``recording_id`` is the recording written
    or replayed; ``recorder`` / ``session`` are the record / replay machinery."""

    def __init__(
        self,
        option: Recording,
        mode: str,
        *,
        store: SignalStore | None = None,
        recording_id: str | None = None,
        data: RecordingData | None = None,
    ) -> None:
        self.option = option
        self.mode = mode
        self.store = store
        self.recording_id = recording_id
        self.recorder: Recorder | None = None
        self.session: ReplaySession | None = None
        self._wrappers: dict[int, RecordingHarness] = {}
        self._used = False
        if mode == "record":
            assert store is not None
            assert recording_id is not None
            info = RecordingInfo(
                id=recording_id, name=option.name, tags=option.tags, metadata=option.metadata
            )
            self.recorder = Recorder(
                store,
                info,
                batch_size=option.batch_size,
                flush_interval=option.flush_interval,
                checkpoint_every=option.checkpoint_every,
                on_write_error=option.on_write_error,
            )
        elif mode == "replay":
            assert data is not None
            self.session = ReplaySession(ReplayIndex(data), collect=option.collect_divergences)

    def __repr__(self) -> str:
        return f"RecordingPlan(mode={self.mode!r}, recording_id={self.recording_id!r})"

    def claim(self) -> None:
        """Mark the plan used by a run; a plan serves one run only."""
        if self._used:
            raise WorkflowDefinitionError(
                "this recording plan was already used by a run; resolve the Recording again"
            )
        self._used = True

    def harness_for(
        self, agent: str, chosen: Harness | None, needs_harness: bool
    ) -> Harness | None:
        """The harness ``agent`` runs with: a replay in replay mode, the chosen one wrapped
        to log its asks in record mode, the chosen one otherwise."""
        if not needs_harness:
            return chosen
        if self.session is not None:
            return ReplayHarness(self.session, agent)
        if self.recorder is not None and chosen is not None:
            wrapper = self._wrappers.get(id(chosen))
            if wrapper is None:
                wrapper = self._wrappers[id(chosen)] = RecordingHarness(chosen)
            return wrapper
        return chosen

    def extensions(self) -> tuple[RunExtension, ...]:
        """The run extensions that record or mark the run."""
        if self.recorder is not None:
            return (self.recorder,)
        if self.session is not None:
            return (ReplayExtension(self.session),)
        return ()

    async def execute(self, core: RunCore) -> WorkflowResult[Any]:
        """Run ``core``; in replay mode with ``collect_divergences``, raise the collected
        divergences at the end (chained to the run's own error, if it failed)."""
        session = self.session
        if session is None or not session.collect:
            return await core.execute()
        try:
            result = await core.execute()
        except ReplayDivergenceError:
            raise
        except OpenHarnessError as exc:
            if session.divergences:
                error = session.error(session.divergences)
                error.partial = exc.partial
                raise error from exc
            raise
        session.check(result)
        return result


RecordingOption = Recording | RecordingPlan | str | None
"""What ``recording=`` accepts: a :class:`Recording`, a resolved plan, a mode string (with
the default store) or ``None`` (live)."""


def _coerce(option: Recording | str) -> Recording:
    if isinstance(option, str):
        return Recording(mode=option)  # type: ignore[arg-type]
    if not isinstance(option, Recording):
        raise WorkflowDefinitionError(
            f"recording must be a Recording, a mode string or None, not {type(option).__name__}"
        )
    return option


def plan_recording(option: RecordingOption) -> RecordingPlan | None:
    """The plan for ``option`` without touching the store (what ``Workflow.prepare`` uses).

    ``live`` and ``record`` need no lookup; ``replay`` and ``auto`` do, so they must have been
    resolved already (``run_reactive`` and ``Engine.start`` do it); otherwise this raises
    :class:`WorkflowDefinitionError` saying so.
    """
    if option is None or isinstance(option, RecordingPlan):
        return option
    recording = _coerce(option)
    if recording.mode == "live":
        return RecordingPlan(recording, "live")
    if recording.mode == "record":
        return RecordingPlan(
            recording,
            "record",
            store=recording.store or default_store(),
            recording_id=recording.recording_id or new_recording_id(),
        )
    raise WorkflowDefinitionError(
        f"recording mode {recording.mode!r} must look its recording up first: use "
        "run_reactive() or Engine.start(), or pass `await recording.resolve()`"
    )


async def resolve_recording(option: RecordingOption) -> RecordingPlan | None:
    """The plan for ``option``, reading the store when the mode needs it; see
    :meth:`Recording.resolve`."""
    if option is None or isinstance(option, RecordingPlan):
        return option
    recording = _coerce(option)
    if recording.mode == "live":
        return RecordingPlan(recording, "live")
    store = recording.store or default_store()
    if recording.mode in ("replay", "auto"):
        found = await _find(recording, store)
        if found is not None:
            data = await store.load(found.id)
            return RecordingPlan(recording, "replay", store=store, recording_id=found.id, data=data)
        if recording.mode == "replay":
            what = (
                f"id {recording.recording_id!r}"
                if recording.recording_id is not None
                else f"a finished recording named {recording.name!r}"
            )
            raise StoreError(f"cannot replay: no recording with {what} in {store!r}")
    elif recording.recording_id is not None and await store.exists(recording.recording_id):
        raise StoreError(
            f"cannot record: recording {recording.recording_id!r} already exists in {store!r} "
            "(delete it first, or use mode 'auto' or 'replay')",
            location=recording.recording_id,
        )
    return RecordingPlan(
        recording,
        "record",
        store=store,
        recording_id=recording.recording_id or new_recording_id(),
    )


async def _find(recording: Recording, store: SignalStore) -> RecordingInfo | None:
    """The recording a replay means: the given id (whatever its status), else the newest
    finished recording with the given name."""
    if recording.recording_id is not None:
        if await store.exists(recording.recording_id):
            return await store.info(recording.recording_id)
        return None
    offset = 0
    while True:
        page = await store.list(name=recording.name, limit=50, offset=offset)
        for info in page:
            if info.finished:
                return info
        if len(page) < 50:
            return None
        offset += len(page)
