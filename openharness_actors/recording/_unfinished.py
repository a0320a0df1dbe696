"""Replaying a harness call the recording never saw finish, in bounded time.

A recorded call without ``harness:end``/``harness:error`` is legitimate when the recorded run
ended under it (its timeout, ``end_when``, a restart, a cancellation, another agent's
failure): the replayed run is expected to end it the same way, so the replay blocks. But a
recording whose writer died (it is still ``"recording"``: killed, truncated at a line
boundary) simply stops there, and a replay that does not end the same way would block
forever. So :func:`serve_unfinished`:

* in an incomplete recording, raises :class:`ReplayDivergenceError` at once, saying the
  recording is incomplete;
* in a finalized one, blocks at most :func:`unfinished_bound` (twice the recorded run's
  duration, at least ``MIN_WAIT_SECONDS``; trio time) — longer than the recorded run took
  to end it — then raises :class:`ReplayDivergenceError`.

It owns this one decision; serving finished calls is ``_replay``'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import trio

from .._errors import ReplayDivergenceError
from ..harness.protocol import EventSink, HarnessEvent, HarnessRequest, HarnessResult
from ._ask import Ask, AskEvent
from ._store import OPEN

if TYPE_CHECKING:
    from ._replay import RecordedCall, ReplayIndex

__all__ = ["MIN_WAIT_SECONDS", "serve_unfinished", "unfinished_bound"]

MIN_WAIT_SECONDS = 1.0


def unfinished_bound(duration_ms: float | None) -> float:
    """How long (seconds) a replayed unfinished call may block."""
    if duration_ms is None or not duration_ms >= 0:
        return 60.0
    return max(MIN_WAIT_SECONDS, 2 * duration_ms / 1000)


async def serve_unfinished(
    call: RecordedCall, ask: Ask, request: HarnessRequest, emit: EventSink, index: ReplayIndex
) -> HarnessResult:
    """Re-emit what the unfinished call emitted, then block or raise (module docstring)."""
    from ._replay import recorded_event

    where = f"replay of recording {index.recording_id!r}"
    if index.status == OPEN:
        raise ReplayDivergenceError(
            f"{where}: the recording is incomplete (status {OPEN!r}: its writer stopped or "
            f"it was truncated) and ends inside this call of agent {request.agent!r}; "
            "nothing recorded can answer it",
            agent=request.agent,
        )
    await emit(AskEvent(ask))
    for name, payload in call.events:
        await emit(cast(HarnessEvent, recorded_event(name, payload)))
    bound = unfinished_bound(index.duration_ms)
    await trio.sleep(bound)
    raise ReplayDivergenceError(
        f"{where}: the recorded call of agent {request.agent!r} never finished (the recorded "
        f"run ended {index.status!r} with it in flight), and this replayed run did not end it "
        f"within {bound:.3g}s as the recorded run did",
        agent=request.agent,
    )
