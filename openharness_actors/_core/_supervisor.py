"""Supervision: what happens when an agent's activation fails for good.

Per agent, ``on_error`` says whether a failure fails the run (``"fail"``, the default),
is recorded and skipped (``"skip"``), or is turned into a signal other agents can react to
(``"emit"``, publishing ``error_signal``). Per run, a :class:`RestartPolicy` makes the run a
supervisor in the OTP sense: a failing agent *crashes* and is restarted — ``one_for_one``
restarts that agent only, ``one_for_all`` every agent of the run — by cancelling the in-flight
activations of the restarted agents and running their triggers again (the failed one
included). More than ``max_restarts`` restarts within ``period`` seconds (trio's clock) and the
supervisor gives up: the run fails with :class:`RestartIntensityError` listing every cause.
The broker and the state actor are never restarted: their failure fails the run.

This module decides; the agent actors carry the decisions out.
"""

from __future__ import annotations

from collections import deque
from typing import Literal

import attrs
import trio

from .._errors import OpenHarnessError, RestartIntensityError

__all__ = ["ON_ERROR_CHOICES", "RestartPolicy", "Supervisor"]

ON_ERROR_CHOICES = ("fail", "skip", "emit")


@attrs.frozen
class RestartPolicy:
    """Restart crashed agents instead of failing the run (see the module docstring)."""

    strategy: Literal["one_for_one", "one_for_all"] = attrs.field(
        default="one_for_one", validator=attrs.validators.in_(("one_for_one", "one_for_all"))
    )
    max_restarts: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    period: float = attrs.field(default=5.0, validator=attrs.validators.gt(0))


class Supervisor:
    """Counts crashes of one run and decides restart or escalation."""

    def __init__(self, policy: RestartPolicy) -> None:
        self.policy = policy
        self.causes: list[tuple[str, OpenHarnessError]] = []
        self._restarts: deque[float] = deque()
        self.restarts = 0

    def crash(self, agent: str, error: OpenHarnessError) -> RestartIntensityError | None:
        """Record that ``agent`` crashed with ``error``. Returns the escalation error when the
        restart intensity is exceeded, else ``None`` (restart)."""
        self.causes.append((agent, error))
        now = trio.current_time()
        window = self._restarts
        while window and now - window[0] > self.policy.period:
            window.popleft()
        if len(window) >= self.policy.max_restarts:
            listing = "\n".join(
                f"  {i}. agent {name!r}: {type(cause).__name__}: {cause}"
                for i, (name, cause) in enumerate(self.causes, 1)
            )
            return RestartIntensityError(
                f"agent {agent!r} crashed and the restart intensity is exhausted "
                f"({self.policy.max_restarts} restarts within {self.policy.period}s, "
                f"strategy {self.policy.strategy}); every cause:\n{listing}",
                agent=agent,
                causes=[cause for _, cause in self.causes],
            )
        window.append(now)
        self.restarts += 1
        return None
