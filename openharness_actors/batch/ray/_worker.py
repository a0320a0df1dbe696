"""The batch worker: one Ray actor per process, hosting one trio run for many cases.

Ray calls an actor's methods on its own threads, so the worker keeps a trio run going in a
thread of its own for its whole life and hands each chunk of cases to it
(``trio.from_thread.run``): the cases of every chunk run concurrently in that one trio run,
sharing the worker's copy of the harness. Each finished case is committed to the
:class:`CaseLedger`, batched with the others finishing at the same time; :meth:`run_chunk`
returns once all its cases have committed (or been refused because the driver gave up on
this worker). The worker's harness calls consult the cluster-wide limiter when the batch has
limits. This module does not import ``ray``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import trio

from ..._errors import WorkflowDefinitionError
from ..._workflow import Workflow
from ...harness.limits import CallLimiter, using_call_limiter
from .._case import DefinitionFailure, run_case
from ._bridge import await_ref
from ._coordinators import Commit, RemoteCallLimiter
from ._shipping import unship

__all__ = ["CaseWorker", "ChunkCase", "Job"]

_COMMIT_BATCH = 256


@attrs.frozen
class Job:
    """What every case of a batch shares: it travels once per worker (see ``_shipping``)."""

    workflow: Workflow[Any]
    make_state: Callable[[Any], Any]
    run_options: Mapping[str, Any]


@attrs.frozen
class ChunkCase:
    """One case as sent to a worker: ``attempt`` counts from 0; ``probe`` checks the
    workflow's definition (the first case of the batch)."""

    index: int
    case_id: str
    item: Any
    attempt: int = 0
    probe: bool = False


class CaseWorker:
    """See the module docstring. ``job`` is the shipped :class:`Job`; ``ledger`` and
    ``limiter`` are actor handles (``limiter`` ``None`` without limits)."""

    def __init__(self, name: str, job: bytes, ledger: Any, limiter: Any) -> None:
        self._name = name
        self._job: Job = unship(job)
        self._ledger = ledger
        self._limiter: CallLimiter | None = (
            RemoteCallLimiter(limiter, name) if limiter is not None else None
        )
        self._token: trio.lowlevel.TrioToken | None = None
        self._commits: trio.MemorySendChannel[tuple[Commit, list[bool], trio.Event]] | None = None
        started = threading.Event()
        self._thread = threading.Thread(
            target=trio.run, args=(self._host, started), name=f"trio-{name}", daemon=True
        )
        self._thread.start()
        started.wait()

    def ready(self) -> int:
        """The worker's process id, once it can take chunks."""
        return os.getpid()

    def run_chunk(self, chunk: bytes) -> list[bool]:
        """Run the shipped ``Sequence[ChunkCase]``; return, per case, whether its commit was
        accepted."""
        cases: Sequence[ChunkCase] = unship(chunk)
        return trio.from_thread.run(self._run_chunk, cases, trio_token=self._token)

    async def _host(self, started: threading.Event) -> None:
        send, receive = trio.open_memory_channel[tuple[Commit, list[bool], trio.Event]](
            _COMMIT_BATCH
        )
        self._commits = send
        self._token = trio.lowlevel.current_trio_token()
        started.set()
        await self._committer(receive)

    async def _committer(
        self, receive: trio.MemoryReceiveChannel[tuple[Commit, list[bool], trio.Event]]
    ) -> None:
        async for first in receive:
            batch = [first]
            while len(batch) < _COMMIT_BATCH:
                try:
                    batch.append(receive.receive_nowait())
                except trio.WouldBlock:
                    break
            accepted = await await_ref(self._ledger.commit.remote([c for c, _, _ in batch]))
            for (_, answer, done), ok in zip(batch, accepted, strict=True):
                answer.append(ok)
                done.set()

    async def _run_chunk(self, cases: Sequence[ChunkCase]) -> list[bool]:
        answers: list[list[bool]] = [[] for _ in cases]
        with using_call_limiter(self._limiter):
            async with trio.open_nursery() as nursery:
                for case, answer in zip(cases, answers, strict=True):
                    nursery.start_soon(self._run_one, case, answer)
        return [answer[0] for answer in answers]

    async def _run_one(self, case: ChunkCase, answer: list[bool]) -> None:
        job = self._job
        outcome: Any
        try:
            outcome = await run_case(
                job.workflow,
                case.item,
                case.case_id,
                case.index,
                job.make_state,
                job.run_options,
                probe=case.probe,
            )
        except DefinitionFailure as failure:
            cause = failure.cause
            assert isinstance(cause, WorkflowDefinitionError)
            outcome = ("definition", str(cause), cause.agent, cause.problems)
        done = trio.Event()
        assert self._commits is not None
        commit = Commit(case.index, case.attempt, self._name, outcome)
        await self._commits.send((commit, answer, done))
        await done.wait()
