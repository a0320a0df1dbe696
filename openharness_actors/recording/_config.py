"""``Recording``: what a run's ``recording=`` option says — a mode, a store, an id or name.

Modes:

* ``"live"`` — no recording; harnesses are called.
* ``"record"`` — harnesses are called and the run is recorded (as ``recording_id``, or a fresh
  ``"rec_…"`` id), with ``name`` and ``tags``.
* ``"replay"`` — no harness is called and none is needed (no key either): every agent's harness
  is replaced by a replay of the recording with id ``recording_id`` (or the newest finished
  recording called ``name``). A missing recording raises :class:`StoreError` before the run.
* ``"auto"`` — like VCR's "once": replay when that recording exists, record it otherwise.

Without a ``store``, recordings go to the embedded default, :func:`default_store`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from .._errors import StoreError, WorkflowDefinitionError
from ._recorder import ON_WRITE_ERROR, OnWriteError
from ._sqlite import SqliteSignalStore
from ._store import SignalStore, as_tags, check_recording_id

if TYPE_CHECKING:
    from ._plan import RecordingPlan

__all__ = ["DEFAULT_STORE_PATH", "MODES", "Mode", "Recording", "default_store"]

Mode = Literal["live", "record", "replay", "auto"]
MODES: tuple[str, ...] = ("live", "record", "replay", "auto")

DEFAULT_STORE_PATH = ".openharness/recordings.db"
"""Where :func:`default_store` keeps recordings unless ``OPENHARNESS_RECORDINGS`` says."""


def default_store() -> SignalStore:
    """The embedded default store: a :class:`SqliteSignalStore` at ``$OPENHARNESS_RECORDINGS``
    or, without it, ``.openharness/recordings.db`` under the current directory."""
    return SqliteSignalStore(os.environ.get("OPENHARNESS_RECORDINGS") or DEFAULT_STORE_PATH)


@attrs.frozen
class Recording:
    """The ``recording=`` option of a run; see the module docstring for the modes.

    ``collect_divergences``: in replay, keep going past asks the recording cannot answer
    (answering them with the closest recorded ask of the same agent) and raise one
    :class:`ReplayDivergenceError` listing all of them when the run ends; by default the first
    one raises. ``batch_size``, ``flush_interval`` (seconds) and ``checkpoint_every`` tune how
    the recorder writes (see ``Recorder``). ``metadata`` is stored with the recording.
    ``on_write_error``: a recording that cannot be written (completely) fails the run with
    :class:`StoreError` (``"fail"``, the default) or adds a warning to
    ``WorkflowResult.warnings`` (``"warn"``).

    Raises :class:`WorkflowDefinitionError` listing every invalid field.
    """

    mode: Mode = "record"
    store: SignalStore | None = None
    recording_id: str | None = None
    name: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=as_tags)
    metadata: Mapping[str, Any] = attrs.field(factory=dict)
    collect_divergences: bool = False
    batch_size: int = 256
    flush_interval: float = 0.05
    checkpoint_every: int = 256
    on_write_error: OnWriteError = "fail"

    def __attrs_post_init__(self) -> None:
        problems = []
        if self.mode not in MODES:
            problems.append(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.store is not None and not isinstance(self.store, SignalStore):
            problems.append(f"store {self.store!r} does not implement the SignalStore API")
        if self.recording_id is not None:
            try:
                check_recording_id(self.recording_id)
            except StoreError as exc:
                problems.append(str(exc))
        if self.name is not None and not isinstance(self.name, str):
            problems.append(f"name must be a string, not {type(self.name).__name__}")
        if self.mode in ("replay", "auto") and self.recording_id is None and self.name is None:
            problems.append(f"mode {self.mode!r} needs a recording_id or a name to look up")
        if not all(isinstance(tag, str) and tag for tag in self.tags):
            problems.append(f"tags must be non-empty strings, not {self.tags!r}")
        if isinstance(self.batch_size, bool) or not (
            isinstance(self.batch_size, int) and self.batch_size >= 1
        ):
            problems.append(f"batch_size must be an integer >= 1, not {self.batch_size!r}")
        if not (isinstance(self.flush_interval, int | float) and self.flush_interval >= 0):
            problems.append(f"flush_interval must be >= 0 seconds, not {self.flush_interval!r}")
        if isinstance(self.checkpoint_every, bool) or not (
            isinstance(self.checkpoint_every, int) and self.checkpoint_every >= 1
        ):
            problems.append(
                f"checkpoint_every must be an integer >= 1, not {self.checkpoint_every!r}"
            )
        if self.on_write_error not in ON_WRITE_ERROR:
            problems.append(f"on_write_error must be 'fail' or 'warn', not {self.on_write_error!r}")
        if problems:
            message = "recording: " + "; ".join(problems)
            raise WorkflowDefinitionError(message, problems=problems)

    async def resolve(self) -> RecordingPlan:
        """Decide what this option means for one run (looking the recording up in the store
        for ``replay`` and ``auto``) and return the single-use plan a run is prepared with.

        Raises :class:`StoreError` when ``replay`` finds no recording, when ``record`` is
        given a ``recording_id`` that exists, or when the store fails.
        """
        from ._plan import resolve_recording

        plan = await resolve_recording(self)
        assert plan is not None
        return plan
