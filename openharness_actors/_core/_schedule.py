"""Following a recorded schedule: replay and resume log signals in the recorded order.

A live run's log order is decided by how its parallel activations raced. Since everything a
run decides is decided at a place in the log (:mod:`._control`) and every activation sees the
state as of its trigger's place, reproducing the *order* reproduces the run. The follower makes
the broker log drafts in the recorded order, whatever order they arrive in:

- each arriving draft is held under its key — (kind, agent, parent) with the parent translated
  from live ids to recorded ones; drafts of one key come from one task in program order;
- the broker logs the held draft whose key is the next recorded signal's, and checks that it
  is that signal (name, agent, harness, payload; ids, timestamps and durations aside): the
  first difference is a :class:`ReplayDivergenceError` naming its position;
- a recorded cancellation is reproduced when its turn comes: the activation is cancelled then
  (or, if it already finished here, its ``agent:cancelled`` is made for it), and drafts it
  produced that the recording never saw are dropped;
- logged signals carry their recorded timestamps, so decisions taken on log time (restart
  intensity) come out the same.

A replay that can produce nothing matching the next recorded signal is stuck; the run's work
count shows it exactly (:mod:`._quiescence`). When the recording is exhausted a resume goes on
live (held drafts in arrival order); a replay that produces more than was recorded diverges.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._errors import ReplayDivergenceError
from .._json import dumps
from ._signal import Signal, SignalSource, new_signal_id

if TYPE_CHECKING:
    from ._broker import Draft
    from ._quiescence import WorkCounter
    from ._run import RunCore

__all__ = ["Schedule", "ScheduleFollower", "schedule_of"]

_KIND = {"agent:activated": "agent:start", "agent:skipped": "agent:start"}
_VOLATILE = frozenset({"duration_ms", "delay", "elapsed", "timestamp", "consumed"})
"""Payload keys a replay does not reproduce: times, and ids (a join's ``consumed`` ids;
``consumed_seq``, the positions, is compared)."""
_NOT_SCHEDULED = frozenset({"workflow:end"})

Key = tuple[str, str | None, str | None]


def schedule_of(signals: Sequence[Signal], *, for_resume: bool = False) -> list[Signal]:
    """The part of a recorded log a run follows: everything but ``workflow:end``; for a
    resume also without the events of harness calls that never finished (they are made
    again, live) and without what an interrupted attempt logged after it was stopped."""
    scheduled = [s for s in signals if s.name not in _NOT_SCHEDULED]
    if not for_resume:
        return scheduled
    scheduled = _before_failure(signals, scheduled)
    open_calls: dict[str, int] = {}
    for index, signal in enumerate(scheduled):
        parent = signal.source.parent
        if signal.name == "harness:start" and parent is not None:
            open_calls[parent] = index
        elif signal.name in ("harness:end", "harness:error") and parent is not None:
            open_calls.pop(parent, None)
    unfinished = set(open_calls)
    kept: list[Signal] = []
    for signal in scheduled:
        if (
            signal.source.parent in unfinished
            and signal.source.harness is not None
            and signal.name not in ("harness:start", "harness:request")
        ):
            continue
        kept.append(signal)
    return kept


def _before_failure(signals: Sequence[Signal], scheduled: list[Signal]) -> list[Signal]:
    """An attempt that failed is followed up to the failing activation's last ask: the
    failing call is made again (live), and what the failure caused is not followed."""
    end = next((s for s in reversed(signals) if s.name == "workflow:end"), None)
    if end is None or end.payload.get("status") != "failed":
        return scheduled
    errors = end.payload.get("errors") or []
    agent = errors[0].get("agent") if errors and isinstance(errors[0], dict) else None
    failed_at = next(
        (
            i
            for i in range(len(scheduled) - 1, -1, -1)
            if scheduled[i].name == "agent:failed" and scheduled[i].source.agent == agent
        ),
        None,
    )
    if failed_at is None:
        return scheduled
    activation = scheduled[failed_at].source.parent
    cut = failed_at
    for i in range(failed_at - 1, -1, -1):
        signal = scheduled[i]
        if signal.source.parent == activation and signal.name == "harness:start":
            cut = i + 1
            if i + 1 < len(scheduled) and scheduled[i + 1].name == "harness:request":
                cut = i + 2
            break
    return scheduled[:cut]


def _normalized(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in _VOLATILE}


@attrs.frozen
class Schedule:
    """What a run follows: recorded ``signals`` (see :func:`schedule_of`), whether to go on
    live after them (``resume``), and the recording's id for error messages."""

    signals: Sequence[Signal]
    resume: bool = False
    recording_id: str = "?"


@attrs.define
class _Held:
    order: int
    draft: Draft


class ScheduleFollower:
    """See the module docstring. ``resume``: go on live once the recording is exhausted.
    ``recording_id`` names the recording in errors."""

    def __init__(
        self, recorded: Sequence[Signal], *, resume: bool = False, recording_id: str = "?"
    ) -> None:
        self.recorded = list(recorded)
        self.work: WorkCounter | None = None
        """The run's work counter: its floor is kept equal to ``held + lent`` at all times."""
        self.lent = 0
        """Tasks waiting for one of their held drafts to be logged."""
        self.position = 0
        self.resume = resume
        self.recording_id = recording_id
        self.held = 0
        self.divergence: ReplayDivergenceError | None = None
        self._held: dict[Key, deque[_Held]] = {}
        self._arrivals = 0
        self._live_of: dict[str, str] = {}  # recorded id -> live id
        self._recorded_of: dict[str, str] = {}  # live id -> recorded id
        self._dropped: list[Draft] = []
        self._cancel_requested: set[str] = set()
        self._live = False  # exhausted (resume) or diverged: log in arrival order

    # -- what the run asks ----------------------------------------------------------------

    @property
    def exhausted(self) -> bool:
        return self.position >= len(self.recorded)

    @property
    def following(self) -> bool:
        return not self._live

    def recorded_after_current(self) -> Signal | None:
        """While a signal is being logged (its attachment acting): the recorded signal after
        it (``None`` past the end, or once no longer following)."""
        if self._live or self.position + 1 >= len(self.recorded):
            return None
        return self.recorded[self.position + 1]

    def recorded_id(self, live_id: str) -> str | None:
        """The recorded id of a logged signal, or ``None`` (not part of the schedule)."""
        return self._recorded_of.get(live_id)

    def has_logged(self, live_id: str) -> bool:
        return live_id in self._recorded_of or self._live

    def stuck_error(self) -> ReplayDivergenceError:
        """The error for a run that can produce nothing matching the next recorded signal."""
        expected = self.recorded[self.position]
        parent = expected.source.parent
        live_parent = None if parent is None else self._live_of.get(parent)
        kind = _KIND.get(expected.name, expected.name)
        held = sorted((d for q in self._held.values() for d in q), key=lambda d: d.order)
        # What the run produced in its place: same kind and cause (an agent the recording
        # never saw first: a renamed or added agent), then anything of the same agent.
        known = {signal.source.agent for signal in self.recorded}
        alike = [
            d.draft
            for d in held
            if _KIND.get(d.draft[1], d.draft[1]) == kind and d.draft[3].parent == live_parent
        ]
        alike.sort(key=lambda draft: draft[3].agent in known)
        closest = (
            alike[0]
            if alike
            else next((d.draft for d in held if d.draft[3].agent == expected.source.agent), None)
        )
        if closest is None:
            names = [f"{d.draft[1]} (agent {d.draft[3].agent!r})" for d in held[:8]]
            waiting = ("; produced instead: " + ", ".join(names)) if names else ""
            return self._error(
                self.position,
                expected.source.agent,
                f"the run produced no signal matching recorded signal #{self.position} "
                f"{_describe(expected)}{waiting}",
                "",
            )
        name, payload, source = closest[1], closest[2], closest[3]
        diff = (
            f"-  {expected.name} (agent {expected.source.agent!r}) {_short(expected.payload)}\n"
            f"+  {name} (agent {source.agent!r}) {_short(payload)}"
        )
        return self._error(
            self.position,
            source.agent,
            f"recorded {_describe(expected)}, the run produced {name!r} of agent "
            f"{source.agent!r} instead",
            diff,
        )

    # -- what the broker does ------------------------------------------------------------

    def hold(self, draft: Draft) -> None:
        """Take an arriving draft."""
        name, source = draft[1], draft[3]
        key = (_KIND.get(name, name), source.agent, source.parent)
        self._held.setdefault(key, deque()).append(_Held(self._arrivals, draft))
        self._arrivals += 1
        self.held += 1
        self._floor()

    def take_next(self, run: RunCore) -> Draft | None:
        """The held draft whose turn it is, or ``None`` (wait for more)."""
        if self._live:
            return self._oldest()
        if self.exhausted:
            if self.resume:
                self._live = True
                return self._oldest()
            if self.held and self.divergence is None:
                oldest = min((d for q in self._held.values() for d in q), key=lambda d: d.order)
                draft = oldest.draft
                self._diverge(
                    self.position,
                    draft[3].agent,
                    f"the run produced {draft[1]!r} (agent {draft[3].agent!r}) after the last "
                    "recorded signal",
                    "",
                )
                run.fail(self.divergence)  # type: ignore[arg-type]
            return self._oldest() if self._live else None
        expected = self.recorded[self.position]
        parent = expected.source.parent
        live_parent = None if parent is None else self._live_of.get(parent)
        key = (_KIND.get(expected.name, expected.name), expected.source.agent, live_parent)
        queue = self._held.get(key)
        if queue:
            held = queue.popleft()
            if not queue:
                del self._held[key]
            self.held -= 1
            self._floor()
            return held.draft
        if expected.name == "agent:cancelled" and live_parent is not None:
            return self._reproduce_cancel(run, expected, live_parent)
        return None

    def _reproduce_cancel(self, run: RunCore, expected: Signal, live_parent: str) -> Draft | None:
        reason = str(expected.payload.get("reason", "run ending"))
        self._drop_children(live_parent, expected.source.agent)
        if live_parent in self._cancel_requested:
            return None
        self._cancel_requested.add(live_parent)
        activation = run.active.get(live_parent)
        if activation is not None:
            activation.cancel(reason)
            return None
        # It finished here before its recorded cancellation: make that signal for it.
        run.work.add()
        return (
            new_signal_id(),
            "agent:cancelled",
            dict(expected.payload),
            SignalSource(expected.source.agent, None, live_parent),
            None,
        )

    def _drop_children(self, live_parent: str, agent: str | None) -> None:
        for key in [k for k in self._held if k[2] == live_parent and k[1] == agent]:
            if key[0].startswith("state:"):
                continue
            for held in self._held.pop(key):
                self.held -= 1
                self._dropped.append(held.draft)
        self._floor()

    def take_dropped(self) -> list[Draft]:
        """Drafts dropped since the last call (each still holds a unit of work)."""
        dropped, self._dropped = self._dropped, []
        return dropped

    def _oldest(self) -> Draft | None:
        if not self.held:
            return None
        key, queue = min(self._held.items(), key=lambda item: item[1][0].order)
        held = queue.popleft()
        if not queue:
            del self._held[key]
        self.held -= 1
        self._floor()
        return held.draft

    def _floor(self) -> None:
        work = self.work
        if work is not None:
            work.floor = self.held + self.lent

    def stamp(self, signal: Signal) -> Signal:
        """The signal as logged: with its recorded timestamp while following."""
        if self._live or self.exhausted:
            return signal
        return attrs.evolve(signal, timestamp=self.recorded[self.position].timestamp)

    def logged(self, signal: Signal, *, strict: bool = True) -> None:
        """``signal`` was logged in the recorded signal's place: compare and advance."""
        if self._live or self.exhausted:
            return
        expected = self.recorded[self.position]
        self._live_of[expected.id] = signal.id
        self._recorded_of[signal.id] = expected.id
        position = self.position
        self.position += 1
        if expected.name == "agent:cancelled" and expected.source.parent is not None:
            live_parent = self._live_of.get(expected.source.parent)
            if live_parent is not None:
                self._drop_children(live_parent, expected.source.agent)
        if not strict or self.divergence is not None:
            return
        difference = _difference(expected, signal)
        if difference:
            self._diverge(position, signal.source.agent, difference[0], difference[1])

    def drain(self) -> Iterator[Draft]:
        """At the end of the run: what is still held, in recorded order, then arrival order."""
        while not self._live and not self.exhausted:
            expected = self.recorded[self.position]
            parent = expected.source.parent
            live_parent = None if parent is None else self._live_of.get(parent)
            key = (_KIND.get(expected.name, expected.name), expected.source.agent, live_parent)
            queue = self._held.get(key)
            if not queue:
                break
            held = queue.popleft()
            if not queue:
                del self._held[key]
            self.held -= 1
            self._floor()
            yield held.draft
        self._live = True
        while (draft := self._oldest()) is not None:
            yield draft

    # -- divergences ---------------------------------------------------------------------

    def _diverge(self, position: int, agent: str | None, what: str, diff: str) -> None:
        self.divergence = self._error(position, agent, what, diff)
        self._live = True

    def _error(
        self, position: int, agent: str | None, what: str, diff: str
    ) -> ReplayDivergenceError:
        who = f"agent {agent!r}, " if agent is not None else ""
        message = (
            f"replay of recording {self.recording_id!r} diverged at signal #{position} "
            f"({who}{what})"
        )
        if diff:
            message += "\n" + diff
        return ReplayDivergenceError(
            message, agent=agent, occurrence=position, diff=diff, divergences=[]
        )


def _describe(signal: Signal) -> str:
    agent = signal.source.agent
    return f"{signal.name!r}" + (f" of agent {agent!r}" if agent is not None else "")


def _difference(expected: Signal, produced: Signal) -> tuple[str, str] | None:
    if expected.name != produced.name:
        return (
            f"expected {_describe(expected)}, produced {_describe(produced)}",
            f"-  {expected.name} {_short(expected.payload)}\n+  {produced.name} "
            f"{_short(produced.payload)}",
        )
    if expected.source.agent != produced.source.agent:
        return (f"expected {_describe(expected)}, produced {_describe(produced)}", "")
    if expected.source.harness != produced.source.harness and produced.source.harness != "replay":
        return (
            f"{expected.name!r} came from harness {produced.source.harness!r}, recorded "
            f"{expected.source.harness!r}",
            "",
        )
    if expected.name == "workflow:start":
        return None
    if _normalized(expected.payload) != _normalized(produced.payload):
        return (
            f"{_describe(expected)} has a different payload",
            _payload_diff(_normalized(expected.payload), _normalized(produced.payload)),
        )
    return None


def _short(payload: dict[str, Any], limit: int = 200) -> str:
    text = dumps(payload)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _payload_diff(expected: dict[str, Any], produced: dict[str, Any]) -> str:
    lines = []
    for key in sorted(set(expected) | set(produced)):
        if expected.get(key, _MISSING) != produced.get(key, _MISSING):
            lines.append(f"-  {key}: {_short({key: expected.get(key)})}")
            lines.append(f"+  {key}: {_short({key: produced.get(key)})}")
    return "\n".join(lines)


_MISSING = object()
