"""What travels to workers: workflows, harness configurations, states — never API keys.

:func:`ship` pickles with cloudpickle, so lambdas, closures and classes defined in
``__main__`` travel by value (anything else by reference: its module must be importable on
the workers). On the way it keeps secrets home:

* an object's attribute whose name looks like a credential (``api_key``, ``_api_key``,
  ``secret``, ``password``, ``auth_token``, ``access_token``…) and holds a string is shipped
  as ``None``, so the worker's copy falls back to the worker's environment (the Anthropic SDK
  reads ``ANTHROPIC_API_KEY`` when its key is ``None``); the attribute's name is logged, never
  its value;
* if the pickled bytes still contain the value of one of this process's credential-looking
  environment variables (captured by a closure, say), shipping is refused with
  :class:`WorkflowDefinitionError`, naming the variable and not its value.

Recordings and journals made on workers must land where the driver reads them:
:func:`stores_for_workers` pins the default store to its absolute path on the driver and
refuses a :class:`MemorySignalStore` (it would stay in the worker's memory).
"""

from __future__ import annotations

import io
import os
import re
import sys
import types
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import attrs
import cloudpickle  # type: ignore[import-untyped]

from ..._errors import WorkflowDefinitionError
from ..._logging import get_logger
from ...journal import Journal
from ...recording import MemorySignalStore, Recording, SignalStore, SqliteSignalStore
from ...recording._config import default_store

if TYPE_CHECKING:
    from ..._define._options import RunSettings

__all__ = ["is_key_like", "ship", "ship_modules_by_value", "stores_for_workers", "unship"]

_KEY_ATTRIBUTE = re.compile(
    r"(?:^|_)(?:api_?key|secret|secret_?key|password|passwd|auth_?token|access_?token|"
    r"bearer_?token|credentials?)$",
    re.IGNORECASE,
)
_KEY_VARIABLE = re.compile(r"API_?KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_MIN_SECRET_LENGTH = 8


def is_key_like(name: str) -> bool:
    """Whether an attribute called ``name`` looks like it holds a credential."""
    return _KEY_ATTRIBUTE.search(name) is not None


def ship(value: Any) -> bytes:
    """Pickle ``value`` for a worker, without credentials (see the module docstring).

    Raises :class:`WorkflowDefinitionError` when a credential from the environment would be
    shipped, or when ``value`` cannot be pickled.
    """
    buffer = io.BytesIO()
    pickler = _GuardedPickler(buffer)
    try:
        pickler.dump(value)
    except WorkflowDefinitionError:
        raise
    except Exception as exc:
        raise WorkflowDefinitionError(
            f"cannot send the batch to the workers: {exc!r}", problems=[repr(exc)]
        ) from exc
    blob = buffer.getvalue()
    leaked = sorted(
        name
        for name, secret in os.environ.items()
        if _KEY_VARIABLE.search(name)
        and len(secret) >= _MIN_SECRET_LENGTH
        and secret.encode() in blob
    )
    if leaked:
        message = (
            f"refusing to send the value of {', '.join(leaked)} to the workers: keys come "
            "from each worker's own environment (do not capture them in closures or options)"
        )
        raise WorkflowDefinitionError(message, problems=[message])
    return blob


def ship_modules_by_value(names: Iterable[str]) -> None:
    """Ship what the modules ``names`` define by value from now on: modules loaded from a
    file path (the CLI's workflow files) cannot be imported by name on the workers."""
    for name in list(names):
        cloudpickle.register_pickle_by_value(sys.modules[name])


def stores_for_workers(settings: RunSettings[Any]) -> RunSettings[Any]:
    """``settings`` with the ``recording=``/``journal=`` stores made usable from workers.

    Raises :class:`WorkflowDefinitionError` for a :class:`MemorySignalStore`.
    """
    recording, journal = settings.recording, settings.journal
    if isinstance(recording, Recording):
        recording = attrs.evolve(recording, store=_shared("recording", recording.store))
    if isinstance(journal, Journal):
        journal = attrs.evolve(journal, store=_shared("journal", journal.store))
    return attrs.evolve(settings, recording=recording, journal=journal)


def _shared(key: str, store: SignalStore | None) -> SignalStore:
    if store is None:
        default = default_store()
        assert isinstance(default, SqliteSignalStore)
        return SqliteSignalStore(default.path.resolve(), busy_timeout=default.busy_timeout)
    if isinstance(store, MemorySignalStore):
        message = (
            f"{key}= on Ray cannot use a MemorySignalStore: what workers write there stays in "
            "their memory; use a SqliteSignalStore or JsonlSignalStore on a path the driver "
            "and the workers share"
        )
        raise WorkflowDefinitionError(message, problems=[message])
    return store


def unship(blob: bytes) -> Any:
    """The value :func:`ship` pickled."""
    return cloudpickle.loads(blob)


class _GuardedPickler(cloudpickle.Pickler):  # type: ignore[misc]  # cloudpickle is untyped
    def reducer_override(self, obj: Any) -> Any:
        if not isinstance(obj, type | types.FunctionType | types.ModuleType):
            names = _key_like_attributes(obj)
            if names:
                return _without(obj, names)
        return super().reducer_override(obj)


def _key_like_attributes(obj: Any) -> list[str]:
    found = []
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict):
        found += [n for n, v in attributes.items() if _holds_key(n, v)]
    for klass in type(obj).__mro__:
        slots = klass.__dict__.get("__slots__", ())
        for name in (slots,) if isinstance(slots, str) else slots:
            if is_key_like(name) and _holds_key(name, getattr(obj, name, None)):
                found.append(name)
    return found


def _holds_key(name: str, value: Any) -> bool:
    return is_key_like(name) and isinstance(value, str | bytes) and len(value) > 0


def _without(obj: Any, names: list[str]) -> Any:
    reduced = obj.__reduce_ex__(5)
    if not (isinstance(reduced, tuple) and len(reduced) >= 3):
        raise _refusal(obj, names)
    state = reduced[2]
    if isinstance(state, dict):
        state = {k: (None if k in names else v) for k, v in state.items()}
    elif (
        isinstance(state, tuple)
        and len(state) == 2
        and all(s is None or isinstance(s, dict) for s in state)
    ):
        state = tuple(
            None if part is None else {k: (None if k in names else v) for k, v in part.items()}
            for part in state
        )
    else:
        raise _refusal(obj, names)
    get_logger(component="batch.ray").warning(
        "key-like attributes not shipped; workers use their own environment",
        type=type(obj).__qualname__,
        attributes=sorted(names),
    )
    return (*reduced[:2], state, *reduced[3:])


def _refusal(obj: Any, names: list[str]) -> WorkflowDefinitionError:
    message = (
        f"refusing to send a {type(obj).__qualname__} to the workers: its attributes "
        f"{', '.join(sorted(names))} look like credentials and cannot be left out; let the "
        "workers read keys from their own environment"
    )
    return WorkflowDefinitionError(message, problems=[message])
