"""The batch journal: which Message Batch each submitted request went into, kept durably.

``AnthropicBatchHarness(journal=Journal(store=...))`` appends one ``batch:submitted`` signal
(``batch_id``, ``custom_ids``) per batch it submits to a recording of the journal's store
(``anthropic-batches`` unless named otherwise, tagged ``batch-journal``). A harness started
later with the same journal (a killed driver run again, a resumed run or batch) reads it
before its first call, and a request whose ``custom_id`` a journaled batch holds is collected
from that batch instead of being submitted again. ``custom_id``s are derived from the request
itself (see :mod:`._harness`), so the same case asks with the same id. This module only reads
and writes that recording.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import trio

from ..._core._signal import Signal, new_signal_id
from ..._logging import get_logger
from ...journal._journal import Journal
from ...recording._store import RecordingInfo

__all__ = ["BATCH_JOURNAL_TAG", "BatchJournal"]

BATCH_JOURNAL_TAG = "batch-journal"


class BatchJournal:
    """Reads and appends the batch journal recording ``name`` of ``journal``'s store."""

    def __init__(self, journal: Journal, name: str = "anthropic-batches") -> None:
        self.journal = journal
        self.name = name
        self._known: dict[str, str] | None = None
        self._count = 0
        self._lock = trio.Lock()
        self._log = get_logger(component="anthropic_batch_journal", journal=name)

    async def batch_of(self, custom_id: str) -> str | None:
        """The journaled batch that holds request ``custom_id``, if any."""
        known = await self._load()
        return known.get(custom_id)

    def forget(self, batch_id: str) -> None:
        """Stop collecting from ``batch_id`` (it is gone: its requests are asked again)."""
        if self._known is not None:
            self._known = {cid: bid for cid, bid in self._known.items() if bid != batch_id}

    async def record(self, batch_id: str, custom_ids: Sequence[str]) -> None:
        """Append that ``batch_id`` holds ``custom_ids`` (the journal store's errors raise)."""
        known = await self._load()
        store = self.journal.resolved_store()
        async with self._lock:
            signal = Signal(
                id=new_signal_id(),
                name="batch:submitted",
                payload={"batch_id": batch_id, "custom_ids": list(custom_ids)},
                timestamp=time.time(),
                seq=self._count,
                run_id=self.name,
            )
            await store.append(self.name, [signal])
            self._count += 1
        for custom_id in custom_ids:
            known[custom_id] = batch_id

    async def _load(self) -> dict[str, str]:
        async with self._lock:
            if self._known is not None:
                return self._known
            store = self.journal.resolved_store()
            known: dict[str, str] = {}
            if await store.exists(self.name):
                signals = await store.load_signals(self.name, pattern="batch:submitted")
                for signal in signals:
                    for custom_id in signal.payload.get("custom_ids", ()):
                        known[str(custom_id)] = str(signal.payload["batch_id"])
                self._count = (await store.info(self.name)).signal_count
                self._log.debug("anthropic_batch.journal_loaded", requests=len(known))
            else:
                await store.create(
                    RecordingInfo(id=self.name, name=self.name, tags=(BATCH_JOURNAL_TAG,))
                )
            self._known = known
            return known
