"""Recording a run: the recorder extension and the harness wrapper that logs each ask.

:class:`Recorder` is a run extension. ``observe`` (on the broker's path, before delivery) only
appends the signal to a buffer; the extension's background task writes the buffer to the store
in batches — once ``batch_size`` signals are waiting, or ``flush_interval`` seconds after the
first one arrived — so the store is never on the hot path. Each write is shielded, so a batch
is written whole or not at all. When the run ends, whatever its outcome, ``finish`` writes
what is left (``workflow:end`` included) and finalizes the recording with the run's status and
duration: a failed, timed-out or cancelled run keeps everything up to its end.

A store that fails while the run goes on does not stop the run: the error is logged, the batch
(and any checkpoint) is kept and written again with the next one. What still cannot be written
when the run ends — or a finalize that fails — is never a silent success: with
``on_write_error="fail"`` (the default) ``finish`` raises a :class:`StoreError` naming the store
and the recording, chained to the store's error, and the engine fails the run with it (its
``partial`` is the result); with ``"warn"`` the problem is added to ``WorkflowResult.warnings``.

While recording, the broker refuses payloads the store could not write (``_storable``), so a
bad value fails where it is published, naming the agent and the key, not in the writer.

Every ``checkpoint_every`` signals the recorder also checkpoints the workflow state, folded
from ``workflow:start`` and the ``state:*:changed`` signals it sees.

:class:`RecordingHarness` wraps the harnesses of a recorded run: it publishes the call's
:class:`Ask` as ``harness:request`` before delegating, which is what replay matches on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs
import trio

from .._core._signal import Signal
from .._core._storable import check_storable
from .._errors import StoreError
from .._logging import get_logger
from ..harness.protocol import EventSink, Harness, HarnessRequest, HarnessResult
from ._ask import Ask, AskEvent
from ._store import RecordingInfo, SignalStore

if TYPE_CHECKING:
    from .._core._ports import RunView
    from .._core._result import WorkflowResult

__all__ = ["LOG_FORMAT", "ON_WRITE_ERROR", "OnWriteError", "Recorder", "RecordingHarness"]

OnWriteError = Literal["fail", "warn"]
ON_WRITE_ERROR: tuple[str, ...] = ("fail", "warn")

LOG_FORMAT = 2
"""The recording format: 2 = the log's order is the truth (commits ride on
``agent:completed``; control happens at its place in the log), so a replay follows the
recorded order. Recordings without it (format 1) replay by the old rules: calls answered by
ask, the order left to the scheduler, with a warning."""


class RecordingHarness:
    """Publishes each request's ask (``harness:request``), then lets ``inner`` answer it.

    ``name`` and ``model`` are the inner harness's, so the trace reads as it would live.
    """

    def __init__(self, inner: Harness) -> None:
        self.inner = inner
        self.name = inner.name

    @property
    def model(self) -> Any:
        return getattr(self.inner, "model", None)

    def preflight(self) -> None:
        self.inner.preflight()

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        await emit(AskEvent(Ask.of(request)))
        return await self.inner.run(request, emit)


class Recorder:
    """Streams one run's signals into ``store`` as recording ``info.id``; see the module
    docstring."""

    def __init__(
        self,
        store: SignalStore,
        info: RecordingInfo,
        *,
        batch_size: int = 256,
        flush_interval: float = 0.05,
        checkpoint_every: int = 256,
        on_write_error: OnWriteError = "fail",
    ) -> None:
        self.store = store
        self.info = info
        self.on_write_error = on_write_error
        self.errors: list[BaseException] = []
        """Store errors met while recording (logged; the run went on)."""
        self._core: RunView | None = None
        self._observed = 0
        self._batch_size = batch_size
        self._flush_interval = flush_interval
        self._checkpoint_every = checkpoint_every
        self._buffer: list[Signal] = []
        self._checkpoints: list[tuple[int, Any]] = []
        self._state: dict[str, Any] | None = None
        self._since_checkpoint = 0
        self._dirty = trio.Event()
        self._full = trio.Event()
        self._created = False
        self._logger: Any = get_logger(recording_id=info.id)

    @property
    def recording_id(self) -> str:
        return self.info.id

    def mark_created(self) -> None:
        """The recording was created in the store already (by whoever set up the run)."""
        self._created = True

    store_check = staticmethod(check_storable)
    """Declared hook: values the store cannot hold are refused when they are published."""

    def attach(self, run: RunView) -> None:
        metadata = {"agents": run.agent_names, "log_format": LOG_FORMAT, **self.info.metadata}
        self.info = attrs.evolve(self.info, run_id=run.run_id, metadata=metadata)
        self._logger = get_logger(run_id=run.run_id, recording_id=self.info.id)
        self._core = run

    def observe(self, signal: Signal) -> None:
        self._observed += 1
        self._buffer.append(signal)
        self._fold_state(signal)
        if len(self._buffer) >= self._batch_size:
            self._full.set()
        self._dirty.set()

    def _fold_state(self, signal: Signal) -> None:
        name = signal.name
        if name == "workflow:start":
            state = signal.payload.get("state")
            self._state = dict(state) if isinstance(state, dict) else None
        elif self._state is not None and name.startswith("state:") and name.endswith(":changed"):
            self._state[signal.payload.get("key", name[6:-8])] = signal.payload.get("new_value")
        self._since_checkpoint += 1
        if self._since_checkpoint >= self._checkpoint_every and self._state is not None:
            self._checkpoints.append((signal.seq, dict(self._state)))
            self._since_checkpoint = 0

    async def run(self) -> None:
        """Write batches until cancelled (the run ended)."""
        while True:
            await self._dirty.wait()
            if len(self._buffer) < self._batch_size:
                with trio.move_on_after(self._flush_interval):
                    await self._full.wait()
            self._dirty = trio.Event()
            self._full = trio.Event()
            await self._flush()

    async def finish(self, result: WorkflowResult[Any]) -> None:
        """Write what is left and finalize with ``result``'s status and duration. When
        something could not be written: raise :class:`StoreError` (``on_write_error="fail"``)
        or add a warning to the run (``"warn"``); see the module docstring."""
        await self._flush()
        if not self._created or self._buffer or self._checkpoints:
            self._unwritten(self.errors[-1])
            return
        try:
            with trio.CancelScope(shield=True):
                await self.store.finalize(
                    self.info.id, status=result.status, duration_ms=result.metrics.duration_ms
                )
        except Exception as exc:
            self._failed(exc)
            self._unwritten(exc, finalizing=True)

    def _unwritten(self, cause: BaseException, *, finalizing: bool = False) -> None:
        missing = len(self._buffer)
        if not self._created:
            what = "could not be created"
        elif finalizing:
            what = "could not be finalized (all its signals were written; it stays 'recording')"
        elif missing:
            what = (
                f"is incomplete: {missing} of {self._observed} signals could not be written "
                "(it stays 'recording')"
            )
        else:
            what = f"is incomplete: {len(self._checkpoints)} state checkpoint(s) were not written"
        message = f"{self._kind} {self.info.id!r} in {self.store!r} {what}: {cause}"
        if self.on_write_error == "warn" and self._core is not None:
            self._core.warn(message)
            self._logger.warning("recording_incomplete", warning=message)
            return
        raise StoreError(message, location=self.info.id) from cause

    @property
    def _kind(self) -> str:
        return "recording"

    async def _flush(self) -> None:
        """Create the recording if needed, then write the buffer (shielded: whole or not at
        all). Store errors are logged and kept; the signals stay buffered."""
        batch, self._buffer = self._buffer, []
        with trio.CancelScope(shield=True):
            try:
                if not self._created:
                    await self.store.create(self.info)
                    self._created = True
                if batch:
                    await self.store.append(self.info.id, batch)
            except Exception as exc:
                self._buffer[:0] = batch
                self._failed(exc)
                return
            checkpoints, self._checkpoints = self._checkpoints, []
            for index, (seq, state) in enumerate(checkpoints):
                try:
                    await self.store.checkpoint(self.info.id, seq, state)
                except Exception as exc:
                    self._checkpoints[:0] = checkpoints[index:]
                    self._failed(exc)
                    return

    def _failed(self, exc: Exception) -> None:
        self.errors.append(exc)
        self._logger.error("recording_write_failed", error=repr(exc), pending=len(self._buffer))
