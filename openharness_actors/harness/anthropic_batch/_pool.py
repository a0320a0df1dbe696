"""Pooling the model calls of concurrent activations into Message Batches, and driving each
batch to its end: submit, poll with backoff, route every result back to its caller.

There is no background task (nothing may outlive a run): the callers waiting on a batch drive
it themselves, one at a time. The first caller to find the batch undriven becomes its driver:
it waits until the pool is full or ``max_wait`` has passed since the pool opened, submits,
polls until the batch ended, fetches the results and settles every caller's :class:`Slot`.
A driver that is cancelled (its run ended) hands over: the next waiter resumes from the phase
reached. Submission is shielded from cancellation, so a created batch is never lost between
its creation and its id being kept (and journaled). A caller cancelled before its batch is
submitted is taken out of the pool; one cancelled later leaves its request in the batch.

This module knows nothing of HTTP: it talks to a :class:`BatchBackend` (the harness), which
makes the API calls and maps their failures. It never builds requests or reads replies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

import attrs
import trio

from ..._errors import HarnessError
from ..._logging import get_logger

__all__ = ["BatchBackend", "BatchPool", "Slot", "SubmitFailure"]

Phase = Literal["collecting", "submitting", "polling", "done"]


@attrs.define(eq=False)
class Slot:
    """One pooled request and, once settled, its ``result`` (the ``result`` object of its
    results line), ``error`` (the batch could not be submitted or read), or ``resubmit``
    (a journaled batch that is gone: ask again in a fresh batch)."""

    custom_id: str
    params: dict[str, Any]
    result: dict[str, Any] | None = None
    error: HarnessError | None = None
    resubmit: bool = False
    batch_id: str | None = None

    @property
    def settled(self) -> bool:
        return self.result is not None or self.error is not None or self.resubmit


class SubmitFailure(Exception):
    """Raised by a :class:`BatchBackend` call that failed for good; ``error`` is what the
    callers get, ``gone`` says the batch does not exist (HTTP 404)."""

    def __init__(self, error: HarnessError, *, gone: bool = False) -> None:
        super().__init__(str(error))
        self.error = error
        self.gone = gone


class BatchBackend(Protocol):
    """The Message Batches calls a pool needs (retries are the backend's)."""

    async def create_batch(self, requests: Sequence[dict[str, Any]]) -> str:
        """Submit ``requests`` (``custom_id`` + ``params``); returns the batch id."""
        ...

    async def batch_ended(self, batch_id: str) -> bool:
        """Whether batch ``batch_id`` has ended (one poll)."""
        ...

    async def batch_results(self, batch_id: str) -> dict[str, dict[str, Any]]:
        """``custom_id`` -> ``result`` object, for an ended batch."""
        ...

    async def journal_batch(self, batch_id: str, custom_ids: Sequence[str]) -> None:
        """Keep a submitted batch's id (a no-op without a journal)."""
        ...


class _Job:
    """One batch, from its pool's opening to its results."""

    def __init__(self, opened_at: float, batch_id: str | None = None) -> None:
        self.opened_at = opened_at
        self.batch_id = batch_id
        self.phase: Phase = "collecting" if batch_id is None else "polling"
        self.slots: dict[str, Slot] = {}
        self.results: dict[str, dict[str, Any]] = {}
        self.attached = batch_id is not None  # collected from the journal, not submitted
        self.driving = False
        self.full = trio.Event()
        self._lot = trio.lowlevel.ParkingLot()

    @property
    def done(self) -> bool:
        return self.phase == "done"

    def notify(self) -> None:
        self._lot.unpark_all()

    async def wait(self) -> None:
        await self._lot.park()


class BatchPool:
    """The batches of one harness in one trio run; see the module docstring.

    ``max_batch_size`` requests at most per batch; ``max_wait`` seconds from a pool's first
    request to its submission; polls start ``poll_interval`` seconds apart and grow by half
    each time up to ``max_poll_interval``.
    """

    def __init__(
        self,
        backend: BatchBackend,
        *,
        max_batch_size: int,
        max_wait: float,
        poll_interval: float,
        max_poll_interval: float,
    ) -> None:
        self._backend = backend
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        self.max_poll_interval = max(poll_interval, max_poll_interval)
        self._collecting: _Job | None = None
        self._attached: dict[str, _Job] = {}
        self.submitted = 0
        self.ended = 0
        self.submitted_requests = 0
        self._log = get_logger(component="anthropic_batch_pool")

    @property
    def in_flight(self) -> int:
        """Batches submitted (or collected from the journal) and not ended yet."""
        return self.submitted + len(self._attached) - self.ended

    @property
    def pooled(self) -> int:
        """Requests waiting in the open pool."""
        return len(self._collecting.slots) if self._collecting is not None else 0

    async def call(self, custom_id: str, params: dict[str, Any], batch_id: str | None) -> Slot:
        """Pool one request (or, with ``batch_id``, collect it from that journaled batch) and
        return its settled slot."""
        job = self._job(batch_id)
        slot = Slot(custom_id, params, batch_id=job.batch_id)
        if job.done:
            self._settle_from(job, slot)
            return slot
        job.slots[custom_id] = slot
        if job.phase == "collecting" and len(job.slots) >= self.max_batch_size:
            self._close(job)
        try:
            while not slot.settled:
                if job.done:
                    self._settle_from(job, slot)
                elif not job.driving:
                    job.driving = True
                    try:
                        await self._drive(job)
                    finally:
                        job.driving = False
                        job.notify()
                else:
                    await job.wait()
        except BaseException:
            if job.phase == "collecting":
                job.slots.pop(custom_id, None)
            raise
        slot.batch_id = job.batch_id
        return slot

    def _job(self, batch_id: str | None) -> _Job:
        if batch_id is not None:
            job = self._attached.get(batch_id)
            if job is None:
                job = self._attached[batch_id] = _Job(trio.current_time(), batch_id)
            return job
        if self._collecting is None:
            self._collecting = _Job(trio.current_time())
        return self._collecting

    def _close(self, job: _Job) -> None:
        if self._collecting is job:
            self._collecting = None
        job.full.set()

    def _settle_from(self, job: _Job, slot: Slot) -> None:
        result = job.results.get(slot.custom_id)
        if result is not None:
            slot.result = result
        elif job.attached:
            slot.resubmit = True  # the journaled batch does not hold this request
        else:
            slot.error = HarnessError(
                f"batch {job.batch_id} has no result for request {slot.custom_id}",
                code="batch_result_missing",
                retryable=True,
            )

    async def _drive(self, job: _Job) -> None:
        backend = self._backend
        if job.phase == "collecting":
            with trio.move_on_at(job.opened_at + self.max_wait):
                await job.full.wait()
            self._close(job)
            job.phase = "submitting"
        if job.phase == "submitting":
            slots = list(job.slots.values())
            if not slots:
                job.phase = "done"
                return
            with trio.CancelScope(shield=True):
                try:
                    batch_id = await backend.create_batch(
                        [{"custom_id": slot.custom_id, "params": slot.params} for slot in slots]
                    )
                except SubmitFailure as failure:
                    for slot in slots:
                        slot.error = failure.error
                    job.phase = "done"
                    return
                job.batch_id = batch_id
                job.phase = "polling"
                self.submitted += 1
                self.submitted_requests += len(slots)
                self._log.debug("anthropic_batch.submitted", batch_id=batch_id, size=len(slots))
                await backend.journal_batch(batch_id, [slot.custom_id for slot in slots])
            job.notify()
            await trio.sleep(self.poll_interval)
        if job.phase == "polling":
            await self._collect(job)

    async def _collect(self, job: _Job) -> None:
        backend = self._backend
        assert job.batch_id is not None
        delay = self.poll_interval
        try:
            while not await backend.batch_ended(job.batch_id):
                await trio.sleep(delay)
                delay = min(self.max_poll_interval, delay * 1.5)
            job.results = await backend.batch_results(job.batch_id)
        except SubmitFailure as failure:
            for slot in job.slots.values():
                if job.attached and failure.gone:
                    slot.resubmit = True
                else:
                    slot.error = failure.error
            job.phase = "done"
            self.ended += 1
            return
        job.phase = "done"
        self.ended += 1
        self._log.debug("anthropic_batch.ended", batch_id=job.batch_id, results=len(job.results))
        for slot in job.slots.values():
            if not slot.settled:
                self._settle_from(job, slot)
