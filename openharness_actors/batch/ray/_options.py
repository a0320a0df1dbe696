"""``RayOptions``: where and how ``run_batch(..., ray=...)`` runs cases on Ray."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["RayOptions"]


def _at_least_one(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{attribute.name} must be an integer >= 1, not {value!r}")


@attrs.frozen
class RayOptions:
    """How a batch uses Ray.

    ``address``: the cluster to connect to (``"auto"``, ``"ray://head:10001"``…); ``None``
    starts a new local cluster (or connects to ``$RAY_ADDRESS`` when set, never to a cluster
    that some other process started on this machine), unless this process is already
    connected (``ray.init`` done by the application), in which case that connection is used
    and left open. A cluster the batch
    started is shut down when it ends. ``init_options`` go to ``ray.init`` (``num_cpus``,
    ``runtime_env``…).

    ``workers``: worker actors (default: the cluster's CPUs divided by ``worker_cpus``), each
    one process running many cases in one trio run. ``chunk_size``: cases sent per call.
    ``max_attempts``: runs of a case whose worker keeps dying before it is recorded as failed
    (``WorkerLostError``). ``max_worker_restarts``: replacement workers started for lost ones
    (default: ``workers``).
    """

    address: str | None = None
    workers: int | None = attrs.field(default=None, validator=_at_least_one)
    worker_cpus: float = 1.0
    chunk_size: int = attrs.field(default=16, validator=_at_least_one)
    max_attempts: int = attrs.field(default=3, validator=_at_least_one)
    max_worker_restarts: int | None = None
    init_options: Mapping[str, Any] = attrs.field(factory=dict)

    @classmethod
    def from_argument(cls, value: RayOptions | str | bool) -> RayOptions:
        """The options meant by ``run_batch``'s ``ray=`` argument."""
        if isinstance(value, RayOptions):
            return value
        if value is True:
            return cls()
        if isinstance(value, str) and value:
            return cls(address=value)
        raise ValueError(f"ray= takes True, an address or RayOptions, not {value!r}")
