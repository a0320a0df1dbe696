"""Replay: answering harness calls from a recording, matched by what each activation asks.

:class:`ReplayIndex` reads a recording's harness calls — ``harness:start``, the
``harness:request`` ask, the events, then ``harness:end`` or ``harness:error`` — grouped by the
activation that made them, and files each call under its :class:`Ask`. The n-th time a
replayed run makes an ask, it gets the n-th recorded answer to that same ask, whatever the
scheduling. :class:`ReplayHarness` re-emits the recorded events and returns the recorded
:class:`HarnessResult` (or raises the recorded :class:`HarnessError`); a call the recorded run
never finished (the run ended under it) blocks until the replayed run is cancelled the same
way — for a bounded time, and not at all in an incomplete recording (``_unfinished``). Tools are not run again: their recorded ``tool:call``/``tool:result`` are re-emitted.

Everything else — state, emits, engine signals — the engine regenerates. An ask the recording
cannot answer raises :class:`ReplayDivergenceError`, or, when collecting, is answered with the
closest recorded ask of the same agent and reported when the run ends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast

import attrs
import trio

from .._core._schedule import Schedule, schedule_of
from .._core._signal import Signal
from .._core._usage import Usage
from .._errors import HarnessError, ReplayDivergenceError, StoreError
from .._logging import get_logger
from ..harness.protocol import EventSink, HarnessEvent, HarnessRequest, HarnessResult
from ._ask import ASK_SIGNAL, Ask, AskEvent, Divergence, ask_diff, closest_ask, describe_divergence
from ._store import RecordingData
from ._unfinished import serve_unfinished

if TYPE_CHECKING:
    from .._core._ports import RunView
    from .._core._result import WorkflowResult

__all__ = [
    "RecordedCall",
    "ReplayExtension",
    "ReplayHarness",
    "ReplayIndex",
    "ReplaySession",
    "recorded_event",
    "serve_recorded",
]

_USAGE_FIELDS = frozenset(attrs.fields_dict(Usage))


@attrs.frozen
class RecordedCall:
    """One recorded harness call: its ask, the events it emitted, and how it ended.

    Exactly one of ``result`` and ``error`` is set, unless the call never finished.
    """

    ask: Ask
    events: tuple[tuple[str, dict[str, Any]], ...]
    result: HarnessResult | None = None
    error: HarnessError | None = None
    timed_out: bool = False
    """The call never finished because the agent's ``timeout`` cut it."""

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


@attrs.define
class _Builder:
    agent: str | None
    ask: Ask | None = None
    events: list[tuple[str, dict[str, Any]]] = attrs.field(factory=list)
    result: HarnessResult | None = None
    error: HarnessError | None = None
    activation: str | None = None
    timed_out: bool = False


class ReplayIndex:
    """The harness calls of one recording, filed by ask; raises :class:`StoreError` when the
    recording's harness signals are malformed."""

    def __init__(self, data: RecordingData) -> None:
        self.recording_id = data.info.id
        self.info = data.info
        self.signals = data.signals
        self.log_format = int(data.info.metadata.get("log_format", 1) or 1)
        self.status = data.info.status
        """The recording's status: ``"recording"`` when incomplete (see ``_unfinished``)."""
        self.duration_ms = data.info.duration_ms
        self.calls: dict[Ask, list[RecordedCall]] = {}
        self.by_activation: dict[str, list[RecordedCall]] = {}
        """Each recorded activation's calls, in order (what a replay that follows the
        recorded schedule serves)."""
        self.models: dict[str, str | None] = {}
        self.unmatched = 0
        """Recorded harness calls without an ask (not made in record mode): never served."""
        builders: list[_Builder] = []
        current: dict[str, _Builder] = {}
        for signal in data.signals:
            try:
                self._read(signal, builders, current)
            except (KeyError, TypeError, ValueError) as exc:
                raise StoreError(
                    f"recording {self.recording_id!r}: signal {signal.seq} ({signal.name}) is "
                    f"malformed for replay: {exc!r}",
                    location=self.recording_id,
                ) from exc
        for builder in builders:
            if builder.ask is None:
                self.unmatched += 1
                continue
            call = RecordedCall(
                builder.ask,
                tuple(builder.events),
                builder.result,
                builder.error,
                builder.timed_out,
            )
            self.calls.setdefault(builder.ask, []).append(call)
            if builder.activation is not None:
                self.by_activation.setdefault(builder.activation, []).append(call)

    def _read(self, signal: Signal, builders: list[_Builder], current: dict[str, _Builder]) -> None:
        parent = signal.source.parent
        if parent is None:
            return
        payload = signal.payload
        if signal.source.harness is None:
            if signal.name in ("agent:retry", "agent:failed"):
                unfinished = current.get(parent)
                if unfinished is not None:
                    del current[parent]
                    unfinished.timed_out = payload.get("error_type") == "ActivationTimeoutError"
            return
        if signal.name == "harness:start":
            builder = _Builder(signal.source.agent, activation=parent)
            builders.append(builder)
            current[parent] = builder
            if builder.agent is not None:
                self.models.setdefault(builder.agent, _optional_str(payload.get("model")))
            return
        found = current.get(parent)
        if found is None:
            return
        if signal.name == ASK_SIGNAL:
            found.ask = Ask.from_payload(payload)
        elif signal.name == "harness:end":
            found.result = _result(payload)
            del current[parent]
        elif signal.name == "harness:error":
            found.error = HarnessError(
                str(payload["message"]),
                agent=found.agent,
                code=str(payload.get("code", "harness_error")),
                retryable=bool(payload.get("retryable", False)),
            )
            del current[parent]
        else:
            found.events.append((signal.name, payload))

    def asks(self) -> Iterator[Ask]:
        """Every distinct recorded ask."""
        return iter(self.calls)

    def __len__(self) -> int:
        return sum(len(calls) for calls in self.calls.values())


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _result(payload: Mapping[str, Any]) -> HarnessResult:
    usage = payload.get("usage") or {}
    if not isinstance(usage, Mapping):
        raise TypeError("'usage' is not an object")
    output = payload["output"]
    if not isinstance(output, str):
        raise TypeError("'output' is not a string")
    cost = payload.get("cost_usd")
    return HarnessResult(
        output=output,
        usage=Usage(**{key: int(value) for key, value in usage.items() if key in _USAGE_FIELDS}),
        stop_reason=_optional_str(payload.get("stop_reason")),
        model=_optional_str(payload.get("model")),
        cost_usd=None if cost is None else float(cost),
    )


class ReplaySession:
    """The replay of one recording by one run: counts asks, serves calls, keeps divergences.

    With ``collect=False`` the first divergence raises :class:`ReplayDivergenceError`. With
    ``collect=True`` a divergent ask is answered by the closest recorded ask of the same agent
    (its next unused answer, else its last; without using it up), and the run ends with one
    error listing every divergence (raised by :class:`ReplayExtension` at quiescence, or by
    :meth:`check`); an ask with no recorded ask of its agent still raises at once (with every
    divergence so far), since nothing sensible can answer it.
    """

    def __init__(self, index: ReplayIndex, *, collect: bool = False) -> None:
        self.index = index
        self.collect = collect
        self.divergences: list[Divergence] = []
        self._seen: Counter[Ask] = Counter()
        self._per_activation: Counter[str] = Counter()
        self.view: RunView | None = None
        """The replayed run (set when it is built): maps its activations to recorded ones."""

    def take_for(self, request: HarnessRequest, ask: Ask) -> RecordedCall:
        """The recorded answer to ``request``: while the run follows the recorded schedule,
        the next call of the recorded activation it is (its ask must match); otherwise by
        ask and occurrence (:meth:`take`)."""
        view = self.view
        recorded = None
        if view is not None and request.activation_id is not None:
            recorded = view.recorded_id(request.activation_id)
        if recorded is None:
            return self.take(ask)
        calls = self.index.by_activation.get(recorded, [])
        number = self._per_activation[recorded]
        self._per_activation[recorded] += 1
        if number < len(calls) and calls[number].ask == ask:
            self._seen[ask] += 1
            return calls[number]
        if number < len(calls):
            diff = ask_diff(calls[number].ask, ask, label=f"recorded call {number + 1}")
            divergence = Divergence(ask.agent, number + 1, ask, calls[number].ask, diff)
        else:
            divergence = Divergence(ask.agent, number + 1, ask, None, "")
        self.divergences.append(divergence)
        raise self.error([divergence])

    def take(self, ask: Ask) -> RecordedCall:
        """The recorded answer to this occurrence of ``ask``; see the class docstring."""
        occurrence = self._seen[ask]
        self._seen[ask] += 1
        recorded = self.index.calls.get(ask, ())
        if occurrence < len(recorded):
            return recorded[occurrence]
        divergence = self._diverged(ask, occurrence + 1, len(recorded))
        self.divergences.append(divergence)
        if not self.collect:
            raise self.error([divergence])
        fallback = self._fallback(divergence)
        if fallback is None:
            raise self.error(self.divergences)
        return fallback

    def _diverged(self, ask: Ask, occurrence: int, recorded_times: int) -> Divergence:
        if recorded_times:
            return Divergence(ask.agent, occurrence, ask, ask, "", recorded_times)
        closest = closest_ask(ask, self.index.asks())
        diff = ""
        if closest is not None:
            label = f"recorded ask of agent {closest.agent!r}"
            diff = ask_diff(closest, ask, label=label)
        return Divergence(ask.agent, occurrence, ask, closest, diff)

    def _fallback(self, divergence: Divergence) -> RecordedCall | None:
        closest = divergence.closest
        if closest is None or closest.agent != divergence.agent:
            return None
        # Serve without consuming: the closest ask may still be made for real later.
        calls = self.index.calls[closest]
        return calls[min(self._seen[closest], len(calls) - 1)]

    def error(self, divergences: list[Divergence]) -> ReplayDivergenceError:
        """The error reporting ``divergences`` (the first one names the agent)."""
        first = divergences[0]
        where = f"replay of recording {self.index.recording_id!r} diverged"
        if len(divergences) == 1:
            message = f"{where}: {describe_divergence(first)}"
        else:
            items = "\n".join(
                f"{number}. {describe_divergence(d)}" for number, d in enumerate(divergences, 1)
            )
            message = f"{where} {len(divergences)} times:\n{items}"
        return ReplayDivergenceError(
            message,
            agent=first.agent,
            occurrence=first.occurrence,
            diff=first.diff,
            divergences=list(divergences),
        )

    def check(self, result: WorkflowResult[Any] | None) -> None:
        """Raise the collected divergences (with ``partial=result``), if there are any."""
        if self.divergences:
            error = self.error(self.divergences)
            error.partial = result
            raise error


def recorded_event(name: str, payload: dict[str, Any]) -> _RecordedEvent:
    """A recorded harness event, to emit again."""
    return _RecordedEvent(name, payload)


@attrs.frozen(slots=True)
class _RecordedEvent:
    signal_name: str
    data: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return self.data


class ReplayHarness:
    """Serves one agent's harness calls from a :class:`ReplaySession` (see the module
    docstring). ``model`` is the default model the recording's ``harness:start`` showed for
    the agent, so the regenerated ``harness:start`` matches it."""

    name = "replay"

    def __init__(self, session: ReplaySession, agent: str | None = None) -> None:
        self._session = session
        self.model = session.index.models.get(agent) if agent is not None else None

    def preflight(self) -> None:
        """Nothing to check: replay needs no key and no network."""

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        """Re-emit the recorded call's events and return (or raise) its recorded outcome.

        Raises :class:`ReplayDivergenceError` when the recording cannot answer the ask.
        """
        ask = Ask.of(request)
        call = self._session.take_for(request, ask)
        if not call.finished and not call.timed_out:
            # Bounded: an incomplete or damaged recording must not hang.
            return await serve_unfinished(call, ask, request, emit, self._session.index)
        return await serve_recorded(call, ask, request, emit)


async def serve_recorded(
    call: RecordedCall, ask: Ask, request: HarnessRequest, emit: EventSink
) -> HarnessResult:
    """Answer ``request`` with a recorded call: emit its ask and events, then return its result
    or raise its error; a call that never finished blocks until cancelled."""
    await emit(AskEvent(ask))
    for name, payload in call.events:
        await emit(cast(HarnessEvent, _RecordedEvent(name, payload)))
    if call.result is not None:
        return call.result
    if call.error is not None:
        error = call.error
        raise HarnessError(
            str(error), agent=request.agent, code=error.code, retryable=error.retryable
        )
    if call.timed_out:
        # The agent's timeout cut this call when it was recorded: cut it here at once.
        raise trio.TooSlowError
    await trio.sleep_forever()
    raise AssertionError("unreachable")


class ReplayExtension:
    """Marks a replayed run with the recording it replays (``WorkflowResult.recording_id``)
    and, when collecting divergences, fails the run with all of them once it is otherwise
    over (at quiescence, before the supervisor stops it), so every way of running it —
    ``run_reactive`` or an engine's handle — raises the collected error."""

    def __init__(self, session: ReplaySession) -> None:
        self._session = session
        self._core: RunView | None = None

    @property
    def recording_id(self) -> str:
        return self._session.index.recording_id

    @property
    def schedule(self) -> Schedule | None:
        """The recorded order to follow (format 2 recordings, unless collecting)."""
        index = self._session.index
        if self._session.collect or index.log_format < 2:
            return None
        return Schedule(schedule_of(index.signals), recording_id=index.recording_id)

    @property
    def divergence(self) -> ReplayDivergenceError | None:
        """The first ask the recording could not answer, if any (the cause of a stuck
        replay)."""
        divergences = self._session.divergences
        return self._session.error(divergences[:1]) if divergences else None

    def attach(self, run: RunView) -> None:
        self._core = run
        self._session.view = run
        index = self._session.index
        if index.log_format < 2 and not self._session.collect:
            get_logger(run_id=run.run_id, recording_id=index.recording_id).warning(
                "replay_old_format",
                log_format=index.log_format,
                detail="recorded before the log order was kept: calls are answered by ask and "
                "the order is left to the scheduler; record it again for an exact replay",
            )

    def observe(self, signal: Signal) -> None:
        pass

    async def run(self) -> None:
        core = self._core
        if core is None or not self._session.collect:
            return
        await core.wait_idle()
        # No checkpoint from here on: this runs before the supervisor's cancellation can.
        if self._session.divergences and not core.failed:
            core.fail(self._session.error(self._session.divergences))

    async def finish(self, result: WorkflowResult[Any]) -> None:
        pass
