"""The batch worker: one Ray actor per process, hosting one trio run for many cases.

Ray calls an actor's methods on its own threads, so the worker keeps a trio run going in a
thread of its own for its whole life and hands each chunk of cases to it
(``trio.from_thread.run``): the cases of every chunk run concurrently in that one trio run,
sharing the worker's copy of the harness.

A worker outlives batches (a pool keeps it warm, see ``_pool``): :meth:`CaseWorker.begin`
gives it a batch's shipped :class:`CaseJob`, the ledger host and the batch's limiter,
:meth:`CaseWorker.run_chunk` runs cases of a batch, and :meth:`CaseWorker.end` cancels what is
left of a batch and forgets it. Each finished case is committed to its batch's
:class:`CaseLedger` (through the :class:`LedgerHost`), batched with the others finishing at the same time; ``run_chunk`` returns
once all its cases have committed (or been refused because the driver gave up on this
worker). The worker's harness calls consult the cluster-wide limiter when the batch has
limits. This module does not import ``ray``.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import attrs
import trio

from ..._errors import WorkflowDefinitionError
from ..._logging import get_logger
from ...harness.limits import CallLimiter, using_call_limiter
from .._case import CaseJob, DefinitionFailure, run_case
from ._bridge import await_ref
from ._coordinators import Commit, RemoteCallLimiter
from ._shipping import unship

__all__ = ["CaseWorker", "ChunkCase"]

_COMMIT_BATCH = 256


@attrs.frozen
class ChunkCase:
    """One case as sent to a worker: ``attempt`` counts from 0; ``probe`` checks the
    workflow's definition (the first case of the batch)."""

    index: int
    case_id: str
    item: Any
    attempt: int = 0
    probe: bool = False


@attrs.define(eq=False)
class _Batch:
    name: str
    job: CaseJob
    ledger: Any
    limiter: CallLimiter | None
    scopes: set[trio.CancelScope] = attrs.Factory(set)


_Pending = tuple[_Batch, Commit, list[bool], trio.Event]


class CaseWorker:
    """See the module docstring. ``name`` names the worker in commits and permits."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._batches: dict[str, _Batch] = {}
        self._token: trio.lowlevel.TrioToken | None = None
        self._commits: trio.MemorySendChannel[_Pending] | None = None
        started = threading.Event()
        self._thread = threading.Thread(
            target=trio.run, args=(self._host, started), name=f"trio-{name}", daemon=True
        )
        self._thread.start()
        started.wait()

    def ready(self) -> tuple[int, str | None]:
        """The worker's process id and node id (``None`` here; a Ray subclass knows it)."""
        return os.getpid(), None

    def begin(self, batch: str, job: bytes, ledger: Any, limiter: Any) -> None:
        """Take batch ``batch``: its shipped :class:`CaseJob` and its ledger and limiter handles
        (``limiter`` ``None`` without limits)."""
        remote = RemoteCallLimiter(limiter, self._name) if limiter is not None else None
        self._batches[batch] = _Batch(batch, unship(job), ledger, remote)

    def run_chunk(self, batch: str, chunk: bytes) -> list[bool]:
        """Run the shipped ``Sequence[ChunkCase]`` of ``batch``; return, per case, whether
        its commit was accepted (all ``False`` for a batch that ended)."""
        cases: Sequence[ChunkCase] = unship(chunk)
        return trio.from_thread.run(self._run_chunk, batch, cases, trio_token=self._token)

    def end(self, batch: str) -> None:
        """Cancel the cases of ``batch`` still running here and forget the batch."""
        trio.from_thread.run_sync(self._end, batch, trio_token=self._token)

    def _end(self, batch: str) -> None:
        ended = self._batches.pop(batch, None)
        for scope in ended.scopes if ended is not None else ():
            scope.cancel()

    async def _host(self, started: threading.Event) -> None:
        send, receive = trio.open_memory_channel[_Pending](_COMMIT_BATCH)
        self._commits = send
        self._token = trio.lowlevel.current_trio_token()
        started.set()
        await self._committer(receive)

    async def _committer(self, receive: trio.MemoryReceiveChannel[_Pending]) -> None:
        async for first in receive:
            pending = [first]
            while len(pending) < _COMMIT_BATCH:
                try:
                    pending.append(receive.receive_nowait())
                except trio.WouldBlock:
                    break
            by_batch: defaultdict[int, list[_Pending]] = defaultdict(list)
            for item in pending:
                by_batch[id(item[0])].append(item)
            for group in by_batch.values():
                await self._commit(group)

    async def _commit(self, group: list[_Pending]) -> None:
        context = group[0][0]
        commits = [c for _, c, _, _ in group]
        try:
            accepted = await await_ref(context.ledger.commit.remote(context.name, commits))
        except Exception as exc:  # the ledger is unreachable: the cases stay uncommitted
            ended = context.name not in self._batches  # expected: its driver is gone
            log = get_logger(component="batch.ray", worker=self._name, batch=context.name)
            (log.debug if ended else log.warning)(
                "commits not delivered", cases=len(group), error=repr(exc)
            )
            accepted = [False] * len(group)
        for (_, _, answer, done), ok in zip(group, accepted, strict=True):
            answer.append(ok)
            done.set()

    async def _run_chunk(self, batch: str, cases: Sequence[ChunkCase]) -> list[bool]:
        context = self._batches.get(batch)
        if context is None:
            return [False] * len(cases)
        answers: list[list[bool]] = [[] for _ in cases]
        with trio.CancelScope() as scope, using_call_limiter(context.limiter):
            context.scopes.add(scope)
            try:
                async with trio.open_nursery() as nursery:
                    for case, answer in zip(cases, answers, strict=True):
                        nursery.start_soon(self._run_one, context, case, answer)
            finally:
                context.scopes.discard(scope)
        return [bool(answer and answer[0]) for answer in answers]

    async def _run_one(self, context: _Batch, case: ChunkCase, answer: list[bool]) -> None:
        job = context.job
        outcome: Any
        try:
            outcome = await run_case(job, case.item, case.case_id, case.index, probe=case.probe)
        except DefinitionFailure as failure:
            cause = failure.cause
            assert isinstance(cause, WorkflowDefinitionError)
            outcome = ("definition", str(cause), cause.agent, cause.problems)
        done = trio.Event()
        assert self._commits is not None
        commit = Commit(case.index, case.attempt, self._name, outcome)
        await self._commits.send((context, commit, answer, done))
        await done.wait()
