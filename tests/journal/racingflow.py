"""A journaled racing workflow for the resume tests; run as a script it journals one run.

Usage: python racingflow.py DB_PATH RUN_ID CALLS_FILE SEED
Five reviewers answer after random (seeded) delays and emit ``review:done``; a reducer
appends who finished to ``order``; a guarded decider, woken by every change of ``order``
once three reviews are in, quotes the order it saw. Each harness call appends its agent to
CALLS_FILE before answering and ``+agent`` once answered, so the test can kill the
process mid-run.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Callable
from typing import Any

import attrs
import trio

from openharness_actors import (
    HarnessRequest,
    Journal,
    ScriptedHarness,
    Signal,
    SqliteSignalStore,
    create_workflow,
)


@attrs.frozen
class Review:
    topic: str
    order: tuple[str, ...] = ()
    decision: str | None = None


workflow = create_workflow(Review)
AGENTS: dict[str, Any] = {
    f"r{i}": workflow.agent(
        prompt=f"review {i}: {{{{ state.topic }}}}",
        activate_on=["workflow:start"],
        emits=["review:done"],
    )
    for i in range(5)
}
AGENTS["decider"] = workflow.agent(
    prompt=lambda ctx: f"decide; reviews arrived in order {json.dumps(list(ctx.state.order))}",
    activate_on=["state:order:changed"],
    when=lambda ctx: len(ctx.state.order) >= 3,
    updates="decision",
)


def append(state: Review, signal: Signal) -> Review:
    return attrs.evolve(state, order=(*state.order, str(signal.source.agent)))


REDUCERS: dict[str | re.Pattern[str], Callable[[Review, Signal], Review]] = {"review:done": append}


def answer(request: HarnessRequest) -> str:
    return f"<{request.prompt}>"


def main() -> None:
    db, run_id, calls_path, seed = sys.argv[1:5]
    rng = random.Random(int(seed))
    calls = open(calls_path, "a")  # noqa: SIM115 - kept open for the whole run

    async def slow(request: HarnessRequest) -> str:
        calls.write(request.agent + "\n")
        calls.flush()
        await trio.sleep(rng.uniform(0.01, 0.08))
        calls.write("+" + request.agent + "\n")  # answered
        calls.flush()
        return answer(request)

    trio.run(
        lambda: workflow.run_reactive(
            agents=AGENTS,
            state=Review("tea"),
            reducers=REDUCERS,
            harness=ScriptedHarness(default=slow),
            journal=Journal(SqliteSignalStore(db), durability="sync"),
            run_id=run_id,
        )
    )


if __name__ == "__main__":
    main()
