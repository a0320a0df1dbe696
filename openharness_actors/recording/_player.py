"""The player: step through a recording (or any trace) and see what the run looked like.

A :class:`Player` has a position: the number of signals applied, from 0 (before the first) to
``len(player)`` (after the last); ``current`` is the last signal applied. Moving is
synchronous and never touches a store (``Player.open`` loads the recording once).
:meth:`Player.snapshot` derives, from the signals up to the position, what a UI would show:
the run's status, the workflow state, each agent's status and the text and thinking of its
current (or last) harness call, tool calls with their status, the last error, the last payload
of every custom signal and the count of every signal name. Moving back re-derives from the
nearest keyframe (one every ``keyframe_every`` signals), so it costs at most that many steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._core._signal import Signal
from .._define._agent import RESERVED_NAMESPACES
from .._define._pattern import Pattern, PatternLike, compile_pattern
from ._match import payload_matches
from ._store import RecordingData, RecordingInfo, SignalStore

if TYPE_CHECKING:
    from .._core._result import WorkflowResult

__all__ = ["Player", "PlayerSnapshot", "ToolCallView"]


@attrs.frozen
class ToolCallView:
    """One tool call: ``status`` is ``"running"`` until its ``tool:result``, then ``"done"``
    or ``"error"``."""

    id: str
    name: str
    agent: str | None
    input: Any
    status: str = "running"
    result: Any = None
    error: str | None = None


@attrs.frozen
class PlayerSnapshot:
    """What the run looked like at ``position`` (see the module docstring).

    ``status`` is ``"pending"`` before ``workflow:start``, ``"running"`` after it and the final
    status once ``workflow:end`` is applied. ``state`` is the workflow state as JSON data
    (``None`` before ``workflow:start``). ``agents`` maps each agent to ``"idle"``,
    ``"active"``, ``"completed"``, ``"failed"``, ``"skipped"`` or ``"cancelled"``. ``text`` and
    ``thinking`` map each agent to what its latest harness call streamed so far (parallel
    activations of one agent are kept apart; the one started last is shown).
    ``last_error`` is ``{"signal", "seq", "agent", "message"}`` of the last failure signal.
    ``custom`` maps each signal name outside the engine's namespaces to its last payload.
    """

    position: int
    signal: Signal | None
    status: str
    state: Any
    agents: Mapping[str, str]
    text: Mapping[str, str]
    thinking: Mapping[str, str]
    tool_calls: tuple[ToolCallView, ...]
    last_error: Mapping[str, Any] | None
    custom: Mapping[str, Any]
    counts: Mapping[str, int]


class _Derived:
    """The mutable fold behind snapshots."""

    __slots__ = (
        "agents",
        "blocks",
        "calls",
        "counts",
        "custom",
        "last_error",
        "latest",
        "state",
        "status",
        "tools",
    )

    def __init__(self) -> None:
        self.status = "pending"
        self.state: Any = None
        self.agents: dict[str, str] = {}
        # Per harness call (keyed by its activation id): agent, text, thinking.
        self.calls: dict[str, tuple[str, str, str]] = {}
        self.latest: dict[str, str] = {}
        self.blocks: dict[tuple[str, str], bool] = {}
        self.tools: dict[str, ToolCallView] = {}
        self.last_error: dict[str, Any] | None = None
        self.custom: dict[str, Any] = {}
        self.counts: dict[str, int] = {}

    def copy(self) -> _Derived:
        twin = _Derived()
        twin.status = self.status
        twin.state = dict(self.state) if isinstance(self.state, dict) else self.state
        for name in ("agents", "calls", "latest", "blocks", "tools", "custom", "counts"):
            setattr(twin, name, dict(getattr(self, name)))
        twin.last_error = self.last_error
        return twin

    def apply(self, signal: Signal) -> None:
        name = signal.name
        payload = signal.payload
        agent = signal.source.agent
        self.counts[name] = self.counts.get(name, 0) + 1
        namespace = name.split(":", 1)[0]
        if namespace not in RESERVED_NAMESPACES:
            self.custom[name] = payload
            return
        if name == "workflow:start":
            self.status = "running"
            state = payload.get("state")
            self.state = dict(state) if isinstance(state, dict) else state
            self.agents = {str(a): "idle" for a in payload.get("agents") or ()}
        elif name == "workflow:end":
            self.status = str(payload.get("status", "completed"))
            if "state" in payload:
                state = payload["state"]
                self.state = dict(state) if isinstance(state, dict) else state
            if payload.get("error"):
                self._error(signal, payload.get("error"))
        elif namespace == "agent" and agent is not None:
            self._agent(signal, agent)
        elif name == "harness:start" and agent is not None and signal.parent is not None:
            self.calls[signal.parent] = (agent, "", "")
            self.latest[agent] = signal.parent
        elif name == "harness:error":
            self._error(signal, payload.get("message"))
        elif namespace in ("text", "thinking") and signal.parent in self.calls:
            self._stream(namespace, name.endswith(":delta"), signal.parent, payload)
        elif name == "tool:call":
            tool_id = str(payload.get("id"))
            self.tools[tool_id] = ToolCallView(
                tool_id, str(payload.get("name")), agent, payload.get("input")
            )
        elif name == "tool:result":
            self._tool_result(signal)
        elif namespace == "state" and name.endswith(":changed") and isinstance(self.state, dict):
            self.state[payload.get("key", name[6:-8])] = payload.get("new_value")

    def _agent(self, signal: Signal, agent: str) -> None:
        verb = signal.name[6:]
        if verb == "activated":
            self.agents[agent] = "active"
        elif verb in ("completed", "cancelled"):
            self.agents[agent] = verb
        elif verb == "failed":
            self.agents[agent] = "failed"
            self._error(signal, signal.payload.get("error"))
        elif verb == "skipped" and self.agents.get(agent) != "active":
            self.agents[agent] = "skipped"

    def _stream(self, kind: str, delta: bool, call: str, payload: Mapping[str, Any]) -> None:
        content = str(payload.get("content", ""))
        key = (kind, call)
        # A complete block repeats its deltas; only a block sent whole adds text.
        adds = delta or not self.blocks.get(key)
        self.blocks[key] = delta
        if adds:
            agent, text, thinking = self.calls[call]
            if kind == "text":
                text += content
            else:
                thinking += content
            self.calls[call] = (agent, text, thinking)

    def _tool_result(self, signal: Signal) -> None:
        payload = signal.payload
        tool_id = str(payload.get("id"))
        error = payload.get("error")
        known = self.tools.get(tool_id) or ToolCallView(
            tool_id, str(payload.get("name")), signal.source.agent, None
        )
        self.tools[tool_id] = attrs.evolve(
            known,
            status="error" if error else "done",
            result=payload.get("result"),
            error=None if error is None else str(error),
        )

    def _error(self, signal: Signal, message: Any) -> None:
        self.last_error = {
            "signal": signal.name,
            "seq": signal.seq,
            "agent": signal.source.agent,
            "message": None if message is None else str(message),
        }

    def snapshot(self, position: int, signal: Signal | None) -> PlayerSnapshot:
        return PlayerSnapshot(
            position=position,
            signal=signal,
            status=self.status,
            state=dict(self.state) if isinstance(self.state, dict) else self.state,
            agents=dict(self.agents),
            text={agent: self.calls[call][1] for agent, call in self.latest.items()},
            thinking={agent: self.calls[call][2] for agent, call in self.latest.items()},
            tool_calls=tuple(self.tools.values()),
            last_error=None if self.last_error is None else dict(self.last_error),
            custom=dict(self.custom),
            counts=dict(self.counts),
        )


class Player:
    """Steps through ``source`` (a loaded recording, a :class:`WorkflowResult` or a sequence of
    signals); see the module docstring. Starts at position 0."""

    def __init__(
        self,
        source: RecordingData | WorkflowResult[Any] | Sequence[Signal],
        *,
        keyframe_every: int = 256,
    ) -> None:
        if keyframe_every < 1:
            raise ValueError("keyframe_every must be >= 1")
        self.info: RecordingInfo | None = None
        if isinstance(source, RecordingData):
            self.info = source.info
            signals: Sequence[Signal] = source.signals
        elif isinstance(source, Sequence):
            signals = source
        else:
            signals = source.signals
        self.signals: tuple[Signal, ...] = tuple(signals)
        self._every = keyframe_every
        self._keyframes: dict[int, _Derived] = {0: _Derived()}
        self._derived = _Derived()
        self._position = 0

    @classmethod
    async def open(
        cls, store: SignalStore, recording_id: str, *, keyframe_every: int = 256
    ) -> Player:
        """Load recording ``recording_id`` from ``store`` and return a player at position 0."""
        return cls(await store.load(recording_id), keyframe_every=keyframe_every)

    def __len__(self) -> int:
        return len(self.signals)

    def __repr__(self) -> str:
        return f"<Player {self._position}/{len(self.signals)}>"

    @property
    def position(self) -> int:
        """Signals applied so far (0 … ``len(self)``)."""
        return self._position

    @property
    def current(self) -> Signal | None:
        """The last signal applied (``None`` at position 0)."""
        return self.signals[self._position - 1] if self._position else None

    @property
    def at_end(self) -> bool:
        return self._position == len(self.signals)

    def _move_to(self, position: int) -> None:
        if position < self._position:
            base = (position // self._every) * self._every
            self._derived = self._keyframes[base].copy()
            self._position = base
        signals = self.signals
        while self._position < position:
            self._derived.apply(signals[self._position])
            self._position += 1
            if self._position % self._every == 0 and self._position not in self._keyframes:
                self._keyframes[self._position] = self._derived.copy()

    def step(self, count: int = 1) -> Signal | None:
        """Apply up to ``count`` more signals; returns the new current signal, or ``None``
        (without moving) when already at the end."""
        if count < 0:
            return self.back(-count)
        if self.at_end:
            return None
        self._move_to(min(len(self.signals), self._position + count))
        return self.current

    def back(self, count: int = 1) -> Signal | None:
        """Undo up to ``count`` signals; returns the new current signal (``None`` at 0)."""
        self._move_to(max(0, self._position - max(count, 0)))
        return self.current

    def goto(self, index: int) -> Signal:
        """Move so that the signal at ``index`` (negative counts from the end) is current.

        Raises ``IndexError`` when there is no such signal.
        """
        length = len(self.signals)
        if not -length <= index < length:
            raise IndexError(f"no signal at index {index} (the recording has {length})")
        self._move_to(index % length + 1)
        current = self.current
        assert current is not None
        return current

    def rewind(self) -> None:
        """Back to position 0."""
        self._move_to(0)

    def peek(self, offset: int = 1) -> Signal | None:
        """The signal ``offset`` steps away (1 = the next one, 0 = current, -1 = the one before
        current) without moving; ``None`` past either end."""
        index = self._position - 1 + offset
        return self.signals[index] if 0 <= index < len(self.signals) else None

    def find_next(
        self,
        pattern: PatternLike | Pattern,
        payload: Mapping[str, Any] | None = None,
        *,
        agent: str | None = None,
    ) -> Signal | None:
        """Move to the next signal after current whose name matches ``pattern`` (and whose
        payload contains ``payload``, and whose source agent is ``agent``); ``None`` (without
        moving) when there is none."""
        index = self._search(range(self._position, len(self.signals)), pattern, payload, agent)
        return None if index is None else self.goto(index)

    def find_previous(
        self,
        pattern: PatternLike | Pattern,
        payload: Mapping[str, Any] | None = None,
        *,
        agent: str | None = None,
    ) -> Signal | None:
        """Like :meth:`find_next`, searching backwards from the signal before current."""
        index = self._search(range(self._position - 2, -1, -1), pattern, payload, agent)
        return None if index is None else self.goto(index)

    def _search(
        self,
        indexes: range,
        pattern: PatternLike | Pattern,
        payload: Mapping[str, Any] | None,
        agent: str | None,
    ) -> int | None:
        compiled = compile_pattern(pattern)
        for index in indexes:
            signal = self.signals[index]
            if (
                compiled.matches(signal.name)
                and (agent is None or signal.source.agent == agent)
                and payload_matches(payload, signal.payload)
            ):
                return index
        return None

    def snapshot(self) -> PlayerSnapshot:
        """What the run looked like at the current position."""
        return self._derived.snapshot(self._position, self.current)

    def __iter__(self) -> Iterator[Signal]:
        """Step to the end, yielding each signal as it becomes current."""
        while not self.at_end:
            signal = self.step()
            assert signal is not None
            yield signal
