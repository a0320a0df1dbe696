"""The supervisor: where the control of a run is carried out.

Control does not travel by direct calls between actors: it rides on the signal that
announces it (:mod:`._control`) and the supervisor carries it out when the broker logs that
signal, so it happens at a place in the log — the same place in a replay.

- ``workflow:terminating`` (``end_when`` held): new activations are refused from here on and,
  unless the run drains, every admitted activation in flight is cancelled but the one whose
  commit ended the run.
- ``agent:failed`` of an agent whose ``on_error`` is ``"fail"``: without a
  :class:`RestartPolicy` the run fails. With one the run is a supervisor in the OTP sense: the
  agent *crashes* and is restarted — ``one_for_one`` that agent, ``one_for_all`` every agent —
  by cancelling the in-flight activations of the restarted agents and running their triggers
  again (the failed one included); ``agent:restarted`` is logged for each right after. More
  than ``max_restarts`` restarts within ``period`` seconds (trio's clock) and the supervisor
  gives up: the run fails with :class:`RestartIntensityError` listing every
  cause.

While the run follows a recorded schedule, cancellations come from the recording instead
(:mod:`._schedule`); everything else happens as live. The broker and the state actor are never
restarted: their failure fails the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import trio

from .._define._policy import ON_ERROR_CHOICES, RestartPolicy
from .._errors import OpenHarnessError, RestartIntensityError
from ._signal import Signal, SignalSource

if TYPE_CHECKING:
    from ._control import Failure
    from ._run import RunCore

__all__ = ["ON_ERROR_CHOICES", "RestartPolicy", "Supervisor"]


class Supervisor:
    """Carries out one run's control signals; see the module docstring."""

    __slots__ = ("_drain", "_restarts", "_run", "causes", "policy", "restarts")

    def __init__(self, run: RunCore, policy: RestartPolicy | None, on_end: str) -> None:
        self._run = run
        self.policy = policy
        self._drain = on_end == "drain"
        self.causes: list[tuple[str, OpenHarnessError]] = []
        self._restarts: list[
            float
        ] = []  # the intensity window (a list: an empty deque is 600 B a run)
        self.restarts = 0

    def terminating(self, activation: str | None) -> None:
        """``workflow:terminating`` was logged; ``activation`` ended the run."""
        run = self._run
        run.ending = True
        run.terminated_early = True
        if self._drain or run.following:
            return
        for active in list(run.active.values()):
            if active.admitted and active.id != activation:
                active.cancel("run ending")

    def failed(self, failure: Failure, signal: Signal) -> None:
        """``agent:failed`` with ``on_error="fail"`` was logged: fail the run or restart."""
        run = self._run
        agent = signal.source.agent or "?"
        error = failure.error
        if self.policy is None:
            run.fail(error)
            return
        escalation = self._crash(agent, error, self._restart_allowed(agent))
        if escalation is not None:
            escalation.__cause__ = error
            run.fail(escalation)
            return
        failure.restart = True
        strategy = self.policy.strategy
        targets = [agent] if strategy == "one_for_one" else list(run.stats)
        if not run.following:
            keep = failure.activation
            for active in list(run.active.values()):
                if active.agent in targets and active is not keep and active.admitted:
                    active.cancel("restart")
        for target in targets:
            run.stats[target].restarts += 1
            run.broker.generate(
                "agent:restarted",
                {
                    "agent": target,
                    "strategy": strategy,
                    "restart": self.restarts,
                    "cause_agent": agent,
                    "error": str(error),
                },
                SignalSource(agent, None, signal.source.parent),
            )

    def _restart_allowed(self, agent: str) -> bool | None:
        """While following a schedule the recording decides (a restart was logged next, or
        not): the intensity window is measured on trio's clock, which a replay does not
        reproduce. ``None``: decide live."""
        follower = self._run.broker.follower
        if follower is None or not follower.following:
            return None
        upcoming = follower.recorded_after_current()
        return upcoming is not None and upcoming.name == "agent:restarted"

    def _crash(
        self, agent: str, error: OpenHarnessError, allowed: bool | None
    ) -> RestartIntensityError | None:
        assert self.policy is not None
        self.causes.append((agent, error))
        window = self._restarts
        now = trio.current_time()
        while window and now - window[0] > self.policy.period:
            window.pop(0)
        exhausted = len(window) >= self.policy.max_restarts if allowed is None else not allowed
        if exhausted:
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
