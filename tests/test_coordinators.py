"""The ledger and the cluster-wide limiter, driven directly (no Ray): exactly-once commits,
fencing, draining, and permits of lost workers."""

from __future__ import annotations

import asyncio

from openharness_actors.batch.ray._coordinators import (
    CaseLedger,
    ClusterCallLimiter,
    Commit,
    LedgerHost,
)
from openharness_actors.harness.limits import CallLimits


def test_first_commit_of_a_case_wins() -> None:
    """A second commit of the same case is refused, whichever worker sends it."""
    ledger = CaseLedger()
    assert ledger.commit([Commit(1, 0, "w0", "a"), Commit(2, 0, "w0", "b")]) == [True, True]
    assert ledger.commit([Commit(1, 0, "w1", "a again")]) == [False]
    assert ledger.statistics().accepted == 2 and ledger.statistics().refused == 1


def test_fenced_attempt_cannot_commit_but_the_retry_can() -> None:
    """Fencing a lost worker's cases reports the committed ones and refuses the lost attempt
    of the others; the retried attempt commits."""
    ledger = CaseLedger()
    ledger.commit([Commit(1, 0, "w0", "done before the loss")])
    assert ledger.fence([(1, 0), (2, 0)]) == [1]
    assert ledger.commit([Commit(2, 0, "w0", "zombie")]) == [False]
    assert ledger.commit([Commit(2, 1, "w1", "retry")]) == [True]


def test_drain_streams_and_forgets_what_was_received() -> None:
    """drain returns the commits after those received, and waits for new ones."""

    async def scenario() -> list[list[str]]:
        ledger = CaseLedger()
        ledger.commit([Commit(1, 0, "w0", "a"), Commit(2, 0, "w0", "b")])
        first = await ledger.drain(0, 0.01)
        later = asyncio.get_running_loop().call_later(0.01, ledger.commit, [Commit(3, 0, "w", "c")])
        second = await ledger.drain(2, 5)
        later.cancel()
        empty = await ledger.drain(3, 0.01)
        return [[c.outcome for c in batch] for batch in (first, second, empty)]

    assert asyncio.run(scenario()) == [["a", "b"], ["c"], []]


def test_lost_worker_permits_come_back() -> None:
    """release_holder frees a lost worker's slots so the others can go on."""

    async def scenario() -> tuple[bool, int]:
        limiter = ClusterCallLimiter(CallLimits(concurrency=1))
        assert await limiter.acquire("w0:0", "w0", 0)
        waiting = asyncio.ensure_future(limiter.acquire("w1:0", "w1", 0))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        freed = limiter.release_holder("w0")
        return await asyncio.wait_for(waiting, 1), freed

    assert asyncio.run(scenario()) == (True, 1)


def test_abandoned_ticket_is_never_granted() -> None:
    """A ticket released while still waiting (its caller was cancelled) takes no slot."""

    async def scenario() -> tuple[bool, int]:
        limiter = ClusterCallLimiter(CallLimits(concurrency=1))
        await limiter.acquire("a", "w0", 0)
        waiting = asyncio.ensure_future(limiter.acquire("b", "w0", 0))
        await asyncio.sleep(0.01)
        limiter.release("b", None)  # abandoned
        limiter.release("a", None)
        return await asyncio.wait_for(waiting, 1), limiter.statistics().in_use

    assert asyncio.run(scenario()) == (False, 0)


def test_ledger_host_keeps_batches_apart_and_refuses_closed_ones() -> None:
    """One host, two batches: the same case key commits once in each; after close, a late
    commit of that batch (a worker of a cancelled batch) is refused."""
    host = LedgerHost()
    host.open("a")
    host.open("b")
    assert host.commit("a", [Commit(1, 0, "w0", "a1")]) == [True]
    assert host.commit("b", [Commit(1, 0, "w0", "b1")]) == [True]
    statistics = host.close("a")
    assert statistics is not None and statistics.accepted == 1
    assert host.commit("a", [Commit(2, 0, "w0", "late")]) == [False]
    assert host.close("a") is None
    assert asyncio.run(host.drain("b", 0, 0.01))[0].outcome == "b1"
