"""One activation's record: which agent, which trigger, its id, its cancel scope, and how it
was stopped.

Activations register with their run while they run so that control carried out at log time
(``workflow:terminating``, restarts, a recorded cancellation being replayed) can reach them by
id. Nothing else about an activation is shared: its work happens in the agent actor's task.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from ._control import Attachment, Rewrite
from ._signal import Signal

if TYPE_CHECKING:
    from ._run import RunCore

__all__ = ["Activation"]


class Activation(Attachment):
    """See the module docstring. ``cancel_reason`` is set by whoever cancels ``scope``
    (``"run ending"`` or ``"restart"``); ``refused`` when the broker turned its
    ``agent:activated`` into ``agent:skipped`` (the activation then ends silently)."""

    __slots__ = (
        "admitted",
        "agent",
        "cancel_reason",
        "id",
        "refused",
        "scope",
        "signals",
        "state",
        "trigger",
    )

    def __init__(
        self,
        agent: str,
        trigger: Signal,
        signals: tuple[Signal, ...],
        state: Any,
        signal_id: str,
        cancellable: bool = True,
    ) -> None:
        self.agent = agent
        self.trigger = trigger
        self.signals = signals
        self.state = state
        self.id = signal_id
        self.scope: trio.CancelScope | None = trio.CancelScope() if cancellable else None
        """``None`` in a run where nothing can cancel one activation (see
        ``RunCore.cancellable``): entering a cancel scope is a large part of a cheap
        activation's cost."""
        self.cancel_reason: str | None = None
        self.refused = False
        self.admitted = False
        """The broker logged its ``agent:activated`` (it counts, and control reaches it)."""

    def admit(self, run: RunCore, name: str, payload: dict[str, Any]) -> Rewrite:
        """It rides on its own ``agent:activated``: admitted when the broker logs it, or the
        signal becomes ``agent:skipped`` (``run ending``, ``activation limit``) and the
        activation ends silently (one object per activation, not two)."""
        reason = run.admission_refused(self.agent)
        if reason is None:
            self.admitted = True
            return None
        self.refused = True
        run.refuse(self)
        return "agent:skipped", {
            "agent": self.agent,
            "trigger": self.trigger.name,
            "reason": reason,
        }

    def cancel(self, reason: str) -> None:
        """Cancel the activation (first reason wins)."""
        if self.cancel_reason is None:
            self.cancel_reason = reason
        if self.scope is not None:
            self.scope.cancel()
