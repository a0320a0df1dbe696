"""The narrow ports the actors of a run are typed against.

Each actor sees only what it needs: an agent actor publishes, reads the log-time flags and
registers its activations; the state actor publishes and reads the definition of the state;
extensions get a read-only view plus the hooks they declare. :class:`~._run.RunCore` is the
one object that implements them (slots, for speed); no actor reaches into another's
internals, and control (termination, failure, restarts) travels as attachments of the
signals that announce it, carried out by the supervisor when the broker logs them
(see :mod:`._control`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._signal import SignalSource

if TYPE_CHECKING:
    from .._errors import OpenHarnessError
    from ._activation import Activation
    from ._signal_log import SignalLog

__all__ = ["AgentPort", "Publish", "RunView", "StatePort"]


class Publish(Protocol):
    """Hand a draft to the broker (see :meth:`~._broker.Broker.publish`)."""

    async def __call__(
        self,
        name: str,
        payload: dict[str, Any],
        source: SignalSource,
        extra: Any = None,
        signal_id: str | None = None,
    ) -> str: ...


class AgentPort(Protocol):
    """What an agent actor needs of its run."""

    run_id: str
    initial_state: Any
    ending: bool
    """``workflow:terminating`` is in the log (set by the broker when it logs it)."""
    stopping: bool
    """The run failed and is being stopped: start nothing new."""
    following: bool
    """The run follows a recorded schedule (replay or resume)."""
    cancellable: bool
    """Something besides the run's end may cancel one activation: give each a scope."""
    barrier: Callable[[str], Awaitable[None]] | None
    publish: Publish

    def register(self, activation: Activation) -> None: ...
    def unregister(self, activation: Activation) -> None: ...
    async def logged(self, signal_id: str) -> None: ...


class StatePort(Protocol):
    """What the state actor needs of its run."""

    run_id: str
    barrier: Callable[[str], Awaitable[None]] | None
    publish: Publish

    @property
    def store_check(self) -> Callable[[str, dict[str, Any], str | None], None] | None: ...

    def fail(self, error: OpenHarnessError) -> None: ...
    async def logged(self, signal_id: str) -> None: ...


class RunView(Protocol):
    """What an extension may read of a run (and the one thing it may do: fail it)."""

    run_id: str
    log: SignalLog

    @property
    def agent_names(self) -> list[str]: ...

    @property
    def failed(self) -> bool: ...

    def fail(self, error: OpenHarnessError) -> None: ...

    def warn(self, message: str) -> None: ...

    def recorded_id(self, signal_id: str) -> str | None: ...

    async def wait_idle(self) -> None: ...
