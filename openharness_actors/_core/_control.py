"""Attachments: what a draft carries besides its name and payload, carried out at log time.

The outcome of a run is a function of the order of its log (DESIGN §9), so every decision
that depends on *when* something happened is taken when the broker logs the signal that
announces it, never when some task happens to run:

- the :class:`~._activation.Activation` itself rides on its ``agent:activated``: the broker
  admits it, or turns the signal into ``agent:skipped`` (``run ending`` once ``workflow:terminating`` is logged;
  ``activation limit`` past ``max_activations``, which also fails the run).
- :class:`GuardSkip` rides on a guard's ``agent:skipped``: past ``workflow:terminating`` the
  reason becomes ``run ending``, as if the activation had checked after the end.
- :class:`~._state_actor.Commit` rides on ``agent:completed``: the state actor applies the
  activation's update in log order.
- :class:`Changed` rides on ``state:<key>:changed``: the state as of that place in the log,
  which every later delivery carries (``ctx.state``).
- :class:`Terminating` rides on ``workflow:terminating`` and :class:`Failure` on
  ``agent:failed``: the supervisor carries them out (cancel, restart, fail the run).

An attachment is made only for these few signals; the others carry ``None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import trio

from ._signal import Signal

if TYPE_CHECKING:
    from .._errors import OpenHarnessError
    from ._activation import Activation
    from ._run import RunCore

__all__ = ["GUARD_SKIP", "Attachment", "Changed", "Failure", "GuardSkip", "Rewrite", "Terminating"]

Rewrite = tuple[str, dict[str, Any]] | None


class Attachment:
    """Base of the attachments; ``admit`` may rewrite the signal, ``logged`` acts on it."""

    __slots__ = ()

    def admit(self, run: RunCore, name: str, payload: dict[str, Any]) -> Rewrite:
        """Called before the signal is made; return ``(name, payload)`` to change it."""
        return None

    def logged(self, run: RunCore, signal: Signal) -> None:
        """Called after the signal is logged and observed, before it is delivered."""


class GuardSkip(Attachment):
    __slots__ = ()

    def admit(self, run: RunCore, name: str, payload: dict[str, Any]) -> Rewrite:
        if run.ending:
            return name, {**payload, "reason": "run ending"}
        return None


GUARD_SKIP = GuardSkip()


class Changed(Attachment):
    __slots__ = ("state",)

    def __init__(self, state: Any) -> None:
        self.state = state

    def logged(self, run: RunCore, signal: Signal) -> None:
        run.log_state = self.state


class Terminating(Attachment):
    __slots__ = ("activation",)

    def __init__(self, activation: str | None) -> None:
        self.activation = activation
        """The activation whose commit ended the run: it is not cancelled."""

    def logged(self, run: RunCore, signal: Signal) -> None:
        run.supervisor.terminating(self.activation)


class Failure(Attachment):
    """An activation failed for good; ``restart`` is the supervisor's answer, known once
    ``decided`` is set (at log time)."""

    __slots__ = ("activation", "decided", "error", "on_error", "restart")

    def __init__(self, error: OpenHarnessError, on_error: str, activation: Activation | None):
        self.error = error
        self.on_error = on_error
        self.activation = activation
        self.decided = trio.Event()
        self.restart = False

    def logged(self, run: RunCore, signal: Signal) -> None:
        try:
            run.supervisor.failed(self, signal)
        finally:
            self.decided.set()
