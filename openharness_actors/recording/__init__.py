"""Recording, replay and persistence of runs: the signal log as the source of truth.

``recording=Recording(mode=..., store=..., recording_id=..., name=..., tags=...)`` on a run
records it into a store while it goes, or replays a recording with no harness and no key.
Stores share one async API (:class:`SignalStore`); a :class:`Player` steps through a
recording. One module per concept: ``_config`` (the option), ``_store`` (the API and its
values), ``_memory``/``_sqlite``/``_jsonl`` (stores), ``_ask`` (what replay matches on),
``_recorder`` (record mode), ``_replay`` (replay mode), ``_plan`` (wiring a run), ``_player``.
"""

from ._ask import Ask as Ask, Divergence as Divergence
from ._config import Recording as Recording, default_store as default_store
from ._jsonl import JsonlSignalStore as JsonlSignalStore
from ._memory import MemorySignalStore as MemorySignalStore
from ._plan import RecordingPlan as RecordingPlan
from ._player import (
    Player as Player,
    PlayerSnapshot as PlayerSnapshot,
    ToolCallView as ToolCallView,
)
from ._recorder import Recorder as Recorder, RecordingHarness as RecordingHarness
from ._replay import ReplayHarness as ReplayHarness
from ._sqlite import SqliteSignalStore as SqliteSignalStore
from ._store import (
    Checkpoint as Checkpoint,
    RecordingData as RecordingData,
    RecordingInfo as RecordingInfo,
    SignalStore as SignalStore,
)

__all__ = [
    "Ask",
    "Checkpoint",
    "Divergence",
    "JsonlSignalStore",
    "MemorySignalStore",
    "Player",
    "PlayerSnapshot",
    "Recorder",
    "Recording",
    "RecordingData",
    "RecordingHarness",
    "RecordingInfo",
    "RecordingPlan",
    "ReplayHarness",
    "SignalStore",
    "SqliteSignalStore",
    "ToolCallView",
    "default_store",
]

from .._public import publish as _publish

_publish(globals(), __all__, __name__)
