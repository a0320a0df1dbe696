"""The driver's account of a batch, whichever executor runs its cases.

Owns :class:`BatchBook` (resume from the results file, recording finished cases, counters,
progress, the :class:`BatchResult`) and the stream of inputs still to run
(:func:`pending_cases`, from a sequence, an iterable, an async iterable or a JSONL file). It
runs no case: the local runner (``_run``) and the Ray driver (``ray``) do.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any

import attrs
import trio

from .._errors import StoreError
from ._progress import BatchProgress, ProgressCallback, ProgressPrinter
from ._results import (
    BatchResult,
    CaseResult,
    ResultWriter,
    WorkerIncident,
    aggregate,
    load_results,
    model_batch_counts,
)

__all__ = ["BatchBook", "known_total", "pending_cases"]


class BatchBook:
    """The driver's account of one batch, whichever executor runs the cases.

    It holds the results read back from the results file (resume; suspended cases are not
    taken back: they run again, resumed from their journals), records each finished case (results file first, then counters and progress), counts the cases in flight
    (``running``, kept by the executor) and builds the :class:`BatchResult`. Open it with
    :meth:`open`; :meth:`aclose` closes the results file.
    """

    def __init__(
        self,
        previous: Mapping[str, CaseResult],
        writer: ResultWriter | None,
        printer: ProgressCallback | None,
        total: int | None,
    ) -> None:
        self._previous = previous
        self._writer = writer
        self._printer = printer
        self.total = total
        self._results: dict[int, CaseResult] = {}
        self.done = self.failed = self.suspended = self.running = self.resumed = self.ran = 0
        self._started = trio.current_time()
        self.on_record: Callable[[CaseResult], bool] | None = None  # False: leave it pending
        self.stop_starting: Callable[[], bool] | None = None
        self.batch_sources: Sequence[Any] = ()  # harnesses with model_batch_counts()

    @classmethod
    async def open(
        cls,
        results_path: str | os.PathLike[str] | None,
        *,
        retry_failed: bool,
        progress: ProgressCallback | bool,
        total: int | None,
    ) -> BatchBook:
        """Read ``results_path`` (resume) and open it for appending."""
        path = Path(results_path) if results_path is not None else None
        previous = await trio.to_thread.run_sync(load_results, path) if path else {}
        # a suspended case is not finished: it is run again (resumed from its journal)
        keep = {
            cid: r for cid, r in previous.items() if not r.suspended and (r.ok or not retry_failed)
        }
        printer = ProgressPrinter() if progress is True else (progress or None)
        return cls(keep, ResultWriter(path) if path else None, printer, total)

    def take_resumed(self, index: int, cid: str) -> bool:
        """If case ``cid`` finished in an earlier call, count it as done and return True."""
        done_before = self._previous.get(cid)
        if done_before is None:
            return False
        self._results[index] = attrs.evolve(done_before, index=index, resumed=True)
        self.done += 1
        self.resumed += 1
        self.failed += 0 if done_before.ok else 1
        return True

    async def record(self, result: CaseResult) -> None:
        """Write ``result`` to the results file, then count it (progress is the caller's)."""
        if self.on_record is not None and not self.on_record(result):
            return
        if self._writer is not None:
            await self._writer.write(result)
        self._results[result.index] = result
        self.done += 1
        self.ran += 1
        self.failed += 0 if result.ok else 1
        self.suspended += 1 if result.suspended else 0

    def report(self) -> None:
        """Show the progress callback a fresh snapshot."""
        if self._printer is not None:
            self._printer(
                BatchProgress(
                    self.done,
                    self.failed,
                    self.running,
                    self.total,
                    trio.current_time() - self._started,
                    self.resumed,
                    model_batch_counts(self.batch_sources),
                    self.suspended,
                )
            )

    async def aclose(self) -> None:
        if self._writer is not None:
            await self._writer.aclose()

    def result(self, incidents: Sequence[WorkerIncident] = ()) -> BatchResult:
        """The batch's result so far, in input order (reports progress one last time)."""
        self.report()
        wall = trio.current_time() - self._started
        ordered = [self._results[i] for i in sorted(self._results)]
        return BatchResult(ordered, aggregate(ordered, wall, self.ran), tuple(incidents))


async def pending_cases(
    inputs: Any, name_case: Callable[[Any, int], str], book: BatchBook
) -> AsyncGenerator[tuple[int, Any, str], None]:
    """Yield ``(index, input, case_id)`` for every input ``book`` has no result for yet."""
    async with aclosing(_enumerate(inputs)) as items:
        async for index, item in items:
            cid = name_case(item, index)
            if not book.take_resumed(index, cid):
                yield index, item, cid


def known_total(inputs: Any) -> int | None:
    """How many inputs there are, when that is known without consuming them."""
    if isinstance(inputs, str | os.PathLike):
        return None
    try:
        return len(inputs)
    except TypeError:
        return None


async def _enumerate(inputs: Any) -> AsyncGenerator[tuple[int, Any], None]:
    if isinstance(inputs, str | os.PathLike):
        index = 0
        async with await trio.open_file(inputs, encoding="utf-8") as lines:
            async for line in lines:
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise StoreError(
                        f"{os.fspath(inputs)}:{index + 1}: input is not JSON ({exc})",
                        location=f"{os.fspath(inputs)}:{index + 1}",
                    ) from exc
                yield index, item
                index += 1
        return
    if isinstance(inputs, AsyncIterable):
        index = 0
        async for item in inputs:
            yield index, item
            index += 1
        return
    for index, item in enumerate(inputs):
        yield index, item
