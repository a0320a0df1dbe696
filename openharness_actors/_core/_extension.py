"""Run extensions: the hook points recording and journaling use to follow a run.

An extension is attached to one run. ``attach`` is called once when the run is built (before
any signal); ``observe`` synchronously for every signal, after it is logged and before it is
delivered (so "recorded before delivered" holds); it must be quick and must not raise.
``run`` is a background task in the run's supervisor nursery, cancelled when the run ends;
``finish`` runs after ``workflow:end`` is logged, shielded from cancellation and bounded in
time, whatever the outcome (success, failure, timeout, cancellation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ._signal import Signal

if TYPE_CHECKING:
    from ._result import WorkflowResult
    from ._run import RunCore

__all__ = ["RunExtension"]


class RunExtension(Protocol):
    """Hooks into one run; see the module docstring."""

    def attach(self, core: RunCore) -> None: ...

    def observe(self, signal: Signal) -> None: ...

    async def run(self) -> None: ...

    async def finish(self, result: WorkflowResult[object]) -> None: ...
