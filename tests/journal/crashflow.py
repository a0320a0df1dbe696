"""A journaled workflow for the crash-point tests; run as a script it journals one run.

Usage: python crashflow.py DB_PATH RUN_ID CALLS_FILE
Each harness call appends its agent to CALLS_FILE before answering (after a short sleep), so
the test can kill the process at chosen points.
"""

from __future__ import annotations

import sys
from typing import Any

import attrs
import trio

from openharness_actors import (
    HarnessRequest,
    Journal,
    ScriptedHarness,
    SqliteSignalStore,
    create_workflow,
)


@attrs.frozen
class Work:
    topic: str
    f1: str | None = None
    f2: str | None = None
    f3: str | None = None
    s1: str | None = None
    s2: str | None = None
    s3: str | None = None
    s4: str | None = None
    s5: str | None = None


workflow = create_workflow(Work)
AGENTS: dict[str, Any] = {
    f"f{i}": workflow.agent(
        prompt=f"fan {i} {{{{ topic }}}}", activate_on=["workflow:start"], updates=f"f{i}"
    )
    for i in (1, 2, 3)
}
for i in range(1, 6):
    AGENTS[f"s{i}"] = workflow.agent(
        prompt=f"step {i} " + ("{{ topic }}" if i == 1 else f"{{{{ s{i - 1} }}}}"),
        activate_on=["workflow:start" if i == 1 else f"s{i - 1}:done"],
        emits=[f"s{i}:done"],
        updates=f"s{i}",
    )


def answer(request: HarnessRequest) -> str:
    return f"<{request.prompt}>"


def main() -> None:
    db, run_id, calls_path = sys.argv[1:4]
    calls = open(calls_path, "a")  # noqa: SIM115 - kept open for the whole run

    async def logged(request: HarnessRequest) -> str:
        calls.write(request.agent + "\n")
        calls.flush()
        await trio.sleep(0.03)
        return answer(request)

    trio.run(
        lambda: workflow.run_reactive(
            agents=AGENTS,
            state=Work("tea"),
            harness=ScriptedHarness(default=logged),
            journal=Journal(SqliteSignalStore(db)),
            run_id=run_id,
        )
    )


if __name__ == "__main__":
    main()
