"""Signals: the immutable events every part of a run communicates with.

A :class:`Signal` is created only by the broker (which numbers it); everybody else publishes
a name, a payload and a source. Payloads hold JSON-compatible data only, so a signal
round-trips through JSON losslessly (:meth:`Signal.to_json` / :meth:`Signal.from_json`).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import attrs

from .._json import converter, dumps, loads

__all__ = ["Signal", "SignalSource", "new_signal_id"]

_ID_PREFIX = "sig_" + os.urandom(5).hex()
_id_counter = itertools.count(1)


def new_signal_id() -> str:
    """Return a fresh signal id (``"sig_…"``), unique within the process and, with
    overwhelming probability, across processes (a random per-process prefix plus a counter)."""
    return f"{_ID_PREFIX}{next(_id_counter):x}"


@attrs.frozen(slots=True)
class SignalSource:
    """Where a signal came from.

    ``agent`` is the agent whose activation produced it, ``harness`` the harness type that
    produced it (``None`` for engine signals), ``parent`` the id of the signal that caused it
    (``None`` only for ``workflow:start``).
    """

    agent: str | None = None
    harness: str | None = None
    parent: str | None = None


_NO_SOURCE = SignalSource()


@attrs.frozen(slots=True)
class Signal:
    """An immutable, numbered event in a run's log.

    ``seq`` is the broker's order within the run (0 for ``workflow:start``), ``timestamp``
    seconds since the epoch when the broker logged it. ``payload`` is JSON-compatible data;
    treat it as read-only.
    """

    id: str
    name: str
    payload: dict[str, Any]
    timestamp: float
    seq: int
    run_id: str
    source: SignalSource = _NO_SOURCE

    @property
    def agent(self) -> str | None:
        """Shorthand for ``source.agent``."""
        return self.source.agent

    @property
    def parent(self) -> str | None:
        """Shorthand for ``source.parent``."""
        return self.source.parent

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict form (what recordings store)."""
        data: dict[str, Any] = converter.unstructure(self)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signal:
        """Inverse of :meth:`to_dict`; raises ``cattrs`` errors on malformed data."""
        return converter.structure(data, cls)

    def to_json(self) -> str:
        """Compact JSON with stable key order."""
        return dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str | bytes) -> Signal:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(loads(text))
