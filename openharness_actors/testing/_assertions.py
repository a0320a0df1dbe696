"""Assertions over a trace, with failure messages that show what the trace holds.

A *trace* is a :class:`WorkflowResult` (its ``signals``), a :class:`SignalCapture`, or any
iterable of signals. Patterns are the usual dialect; ``payload`` matches partially (nested
mappings partially, callables as predicates, anything else by equality). Every helper raises
``AssertionError`` on failure and returns what it found on success.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._core._result import WorkflowResult
from .._core._signal import Signal
from .._define._pattern import Pattern, PatternLike, compile_pattern
from ..recording._match import payload_matches

__all__ = [
    "Step",
    "TraceLike",
    "assert_causal_chain",
    "assert_count",
    "assert_no_signal",
    "assert_sequence",
    "assert_signal",
    "causal_chain",
    "find_signals",
    "format_signals",
    "signals_of",
]

TraceLike = WorkflowResult[Any] | Iterable[Signal]
Step = PatternLike | Pattern | tuple[PatternLike | Pattern, Mapping[str, Any]]
"""One step of :func:`assert_sequence`: a pattern, or ``(pattern, partial payload)``."""

_SHOWN = 40
_PAYLOAD_WIDTH = 160


def signals_of(trace: TraceLike) -> list[Signal]:
    """The signals of ``trace``, in order."""
    if isinstance(trace, WorkflowResult):
        return list(trace.signals)
    return list(trace)


def _payload_text(payload: Any) -> str:
    try:
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):
        text = repr(payload)
    return text if len(text) <= _PAYLOAD_WIDTH else text[: _PAYLOAD_WIDTH - 1] + "…"


def format_signals(signals: Sequence[Signal], *, limit: int = _SHOWN) -> str:
    """One line per signal (``#seq name [agent] payload``), at most ``limit`` of them."""
    lines = []
    for signal in signals[:limit]:
        agent = f" [{signal.source.agent}]" if signal.source.agent else ""
        lines.append(f"  #{signal.seq} {signal.name}{agent} {_payload_text(signal.payload)}")
    if len(signals) > limit:
        lines.append(f"  … and {len(signals) - limit} more")
    return "\n".join(lines) if lines else "  (none)"


def _name_summary(signals: Sequence[Signal]) -> str:
    counts = Counter(signal.name for signal in signals)
    return ", ".join(f"{name} x{count}" for name, count in counts.items()) or "no signals"


def _describe(pattern: Pattern, payload: Mapping[str, Any] | None, agent: str | None) -> str:
    text = repr(pattern.source)
    if agent is not None:
        text += f" from agent {agent!r}"
    if payload is not None:
        text += f" with payload containing {_payload_text(dict(payload))}"
    return text


def _matching(
    signals: Iterable[Signal],
    pattern: Pattern,
    payload: Mapping[str, Any] | None,
    agent: str | None,
) -> list[Signal]:
    return [
        signal
        for signal in signals
        if pattern.matches(signal.name)
        and (agent is None or signal.source.agent == agent)
        and payload_matches(payload, signal.payload)
    ]


def find_signals(
    trace: TraceLike,
    pattern: PatternLike | Pattern,
    payload: Mapping[str, Any] | None = None,
    *,
    agent: str | None = None,
) -> list[Signal]:
    """The signals of ``trace`` matching ``pattern``, ``payload`` and ``agent``."""
    return _matching(signals_of(trace), compile_pattern(pattern), payload, agent)


def _near_misses(signals: Sequence[Signal], pattern: Pattern) -> str:
    named = [signal for signal in signals if pattern.matches(signal.name)]
    if named:
        return f"signals named like {pattern.source!r}:\n{format_signals(named)}"
    return f"no signal is named like {pattern.source!r}; the trace has: {_name_summary(signals)}"


def assert_signal(
    trace: TraceLike,
    pattern: PatternLike | Pattern,
    payload: Mapping[str, Any] | None = None,
    *,
    agent: str | None = None,
) -> Signal:
    """Assert ``trace`` holds a signal matching; returns the first one."""
    __tracebackhide__ = True
    signals = signals_of(trace)
    compiled = compile_pattern(pattern)
    found = _matching(signals, compiled, payload, agent)
    if not found:
        raise AssertionError(
            f"expected a signal {_describe(compiled, payload, agent)}; found none.\n"
            + _near_misses(signals, compiled)
        )
    return found[0]


def assert_no_signal(
    trace: TraceLike,
    pattern: PatternLike | Pattern,
    payload: Mapping[str, Any] | None = None,
    *,
    agent: str | None = None,
) -> None:
    """Assert ``trace`` holds no signal matching."""
    __tracebackhide__ = True
    compiled = compile_pattern(pattern)
    found = _matching(signals_of(trace), compiled, payload, agent)
    if found:
        raise AssertionError(
            f"expected no signal {_describe(compiled, payload, agent)}; found {len(found)}:\n"
            + format_signals(found)
        )


def assert_count(
    trace: TraceLike,
    pattern: PatternLike | Pattern,
    count: int,
    payload: Mapping[str, Any] | None = None,
    *,
    agent: str | None = None,
) -> list[Signal]:
    """Assert exactly ``count`` signals match; returns them."""
    __tracebackhide__ = True
    signals = signals_of(trace)
    compiled = compile_pattern(pattern)
    found = _matching(signals, compiled, payload, agent)
    if len(found) != count:
        shown = format_signals(found) if found else "  " + _near_misses(signals, compiled)
        raise AssertionError(
            f"expected {count} signal(s) {_describe(compiled, payload, agent)}; "
            f"found {len(found)}:\n{shown}"
        )
    return found


def _step(step: Step) -> tuple[Pattern, Mapping[str, Any] | None]:
    if isinstance(step, tuple):
        pattern, payload = step
        return compile_pattern(pattern), payload
    return compile_pattern(step), None


def assert_sequence(trace: TraceLike, *steps: Step, agent: str | None = None) -> list[Signal]:
    """Assert the steps match signals in this order (other signals may come between);
    returns the signals matched, one per step (each the earliest possible)."""
    __tracebackhide__ = True
    signals = signals_of(trace)
    matched: list[Signal] = []
    position = 0
    for number, step in enumerate(steps, start=1):
        pattern, payload = _step(step)
        found = None
        for index in range(position, len(signals)):
            signal = signals[index]
            if (
                pattern.matches(signal.name)
                and (agent is None or signal.source.agent == agent)
                and payload_matches(payload, signal.payload)
            ):
                found = index
                break
        if found is None:
            after = f"after #{matched[-1].seq} ({matched[-1].name})" if matched else "anywhere"
            rest = signals[position:]
            raise AssertionError(
                f"sequence broken at step {number} of {len(steps)}: no signal "
                f"{_describe(pattern, payload, agent)} {after}.\n"
                f"matched so far: {[s.name for s in matched] or 'nothing'}\n"
                f"signals after that point:\n{format_signals(rest)}"
            )
        matched.append(signals[found])
        position = found + 1
    return matched


def causal_chain(trace: TraceLike, signal: Signal) -> list[Signal]:
    """The chain of causes of ``signal``, from the root (``workflow:start`` in a complete
    trace) to ``signal`` itself, following ``source.parent``. The chain stops early at a
    parent that is not in the trace."""
    by_id = {s.id: s for s in signals_of(trace)}
    chain = [signal]
    seen = {signal.id}
    current = signal
    while current.source.parent is not None:
        parent = by_id.get(current.source.parent)
        if parent is None or parent.id in seen:
            break
        chain.append(parent)
        seen.add(parent.id)
        current = parent
    chain.reverse()
    return chain


def assert_causal_chain(
    trace: TraceLike,
    pattern: PatternLike | Pattern,
    payload: Mapping[str, Any] | None = None,
    *,
    agent: str | None = None,
    through: Sequence[PatternLike | Pattern] = (),
) -> list[Signal]:
    """Assert the first signal matching leads back, parent by parent, to ``workflow:start``
    (passing through signals matching ``through``, in that order from the root); returns
    the chain from ``workflow:start`` to it."""
    __tracebackhide__ = True
    signals = signals_of(trace)
    target = assert_signal(signals, pattern, payload, agent=agent)
    chain = causal_chain(signals, target)
    shown = format_signals(chain)
    root = chain[0]
    if root.name != "workflow:start":
        missing = root.source.parent
        reason = (
            f"its parent {missing!r} is not in the trace"
            if missing is not None
            else "it has no parent"
        )
        raise AssertionError(
            f"the causal chain of #{target.seq} {target.name} does not reach workflow:start: "
            f"it stops at #{root.seq} {root.name}, and {reason}.\nchain:\n{shown}"
        )
    position = 0
    for wanted in through:
        compiled = compile_pattern(wanted)
        while position < len(chain) and not compiled.matches(chain[position].name):
            position += 1
        if position == len(chain):
            raise AssertionError(
                f"the causal chain of #{target.seq} {target.name} does not pass through "
                f"{compiled.source!r} (in the order given).\nchain:\n{shown}"
            )
        position += 1
    return chain
