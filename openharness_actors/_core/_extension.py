"""Run extensions: the hook points recording and journaling use to follow a run.

An extension is attached to one run and sees it only through :class:`~._ports.RunView`.
``attach`` is called once when the run is built (before any signal); ``observe``
synchronously for every signal, after it is logged and before it is delivered (so "recorded
before delivered" holds); it must be quick and must not raise. ``run`` is a background task in
the run's supervisor nursery, cancelled when the run ends; ``finish`` runs after
``workflow:end`` is logged, shielded from cancellation and bounded in time, whatever the
outcome (success, failure, timeout, cancellation).

Declared hooks, read once after ``attach`` (an extension without them simply lacks the
attribute): ``recording_id`` (the recording this run writes or replays, shown in the
result), ``barrier`` (``async (signal_id) -> None``: returns once that signal is durable; a
sync journal), ``schedule`` (a :class:`~._schedule.Schedule`: the recorded order this run
follows — replay, resume), ``store_check`` (``(name, payload, agent) -> None``, raising for
a value the extension's store cannot hold: published values are checked, see ``_storable``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ._signal import Signal

if TYPE_CHECKING:
    from ._ports import RunView
    from ._result import WorkflowResult

__all__ = ["RunExtension"]


class RunExtension(Protocol):
    """Hooks into one run; see the module docstring."""

    def attach(self, run: RunView) -> None: ...

    def observe(self, signal: Signal) -> None: ...

    async def run(self) -> None: ...

    async def finish(self, result: WorkflowResult[object]) -> None: ...
