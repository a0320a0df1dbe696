"""Asks: what one activation asks of a harness, the key replay matches recorded calls by.

An :class:`Ask` is the agent, the rendered prompt and system prompt, the model, the tool names
and the output type's name of one :class:`HarnessRequest` — never its position in the run.
Recording mode puts it in the log as a ``harness:request`` signal (the first event of every
harness call), so a recording holds everything replay needs; replay compares asks and, when
one is missing, explains the difference with a unified diff against the closest recorded ask.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import attrs

from ..harness.protocol import HarnessRequest

__all__ = [
    "ASK_SIGNAL",
    "Ask",
    "AskEvent",
    "Divergence",
    "ask_diff",
    "closest_ask",
    "describe_divergence",
]

ASK_SIGNAL = "harness:request"
"""The signal that carries an :class:`Ask` (payload: :meth:`Ask.to_payload`)."""


def _name_of(value: Any) -> str:
    return str(getattr(value, "__name__", None) or repr(value))


@attrs.frozen(slots=True, cache_hash=True)
class Ask:
    """The identity of a harness call (hashable; equal asks are "the same ask")."""

    agent: str
    prompt: str
    system: str | None = None
    model: str | None = None
    tools: tuple[str, ...] = ()
    output: str | None = None

    @classmethod
    def of(cls, request: HarnessRequest) -> Ask:
        """The ask of ``request``: tools by ``__name__``, the output type by ``__name__``."""
        return cls(
            agent=request.agent,
            prompt=request.prompt,
            system=request.system,
            model=request.model,
            tools=tuple(_name_of(tool) for tool in request.tools),
            output=None if request.output is None else _name_of(request.output),
        )

    def to_payload(self) -> dict[str, Any]:
        """The ``harness:request`` payload."""
        return {
            "agent": self.agent,
            "prompt": self.prompt,
            "system": self.system,
            "model": self.model,
            "tools": list(self.tools),
            "output": self.output,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Ask:
        """Inverse of :meth:`to_payload`; raises ``TypeError``/``KeyError`` when malformed."""
        tools = payload.get("tools") or []
        if not isinstance(payload["agent"], str) or not isinstance(payload["prompt"], str):
            raise TypeError("an ask needs a string 'agent' and 'prompt'")
        return cls(
            agent=payload["agent"],
            prompt=payload["prompt"],
            system=_optional_str(payload.get("system")),
            model=_optional_str(payload.get("model")),
            tools=tuple(str(tool) for tool in tools),
            output=_optional_str(payload.get("output")),
        )

    def lines(self) -> list[str]:
        """A line-oriented rendering, for diffs."""
        rendered = [
            f"agent: {self.agent}",
            f"model: {self.model if self.model is not None else '(harness default)'}",
            f"tools: {', '.join(self.tools) if self.tools else '(none)'}",
            f"output: {self.output if self.output is not None else '(text)'}",
        ]
        if self.system is None:
            rendered.append("system: (none)")
        else:
            rendered.append("system:")
            rendered.extend(f"  {line}" for line in self.system.splitlines() or [""])
        rendered.append("prompt:")
        rendered.extend(f"  {line}" for line in self.prompt.splitlines() or [""])
        return rendered


def _optional_str(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected a string or null, got {type(value).__name__}")
    return value


@attrs.frozen(slots=True)
class AskEvent:
    """The harness event that publishes an ask (``harness:request``)."""

    signal_name: ClassVar[str] = ASK_SIGNAL
    ask: Ask

    def payload(self) -> dict[str, Any]:
        return self.ask.to_payload()


@attrs.frozen
class Divergence:
    """One ask of a replayed run that the recording cannot answer.

    ``occurrence`` is 1-based (the n-th time this run made this same ask). ``closest`` is the
    most similar recorded ask (``None`` when the recording has none); ``diff`` a unified diff
    from it to ``ask`` (empty when the ask itself was recorded, only fewer times).
    ``recorded_times`` is how often the recording holds exactly ``ask``.
    """

    agent: str
    occurrence: int
    ask: Ask
    closest: Ask | None
    diff: str
    recorded_times: int = 0

    def describe(self) -> str:
        """A readable explanation (several lines)."""
        return describe_divergence(self)


def closest_ask(ask: Ask, candidates: Iterable[Ask]) -> Ask | None:
    """The candidate most like ``ask``: same agent first, then the most similar text."""
    target = "\n".join(ask.lines())
    best: tuple[bool, float] | None = None
    chosen: Ask | None = None
    for candidate in candidates:
        matcher = difflib.SequenceMatcher(
            None, "\n".join(candidate.lines()), target, autojunk=False
        )
        score = (candidate.agent == ask.agent, matcher.ratio())
        if best is None or score > best:
            best, chosen = score, candidate
    return chosen


def ask_diff(recorded: Ask, actual: Ask, *, label: str) -> str:
    """A unified diff from ``recorded`` to ``actual``."""
    return "\n".join(
        difflib.unified_diff(
            recorded.lines(), actual.lines(), fromfile=label, tofile="this run", lineterm="", n=2
        )
    )


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def describe_divergence(divergence: Divergence) -> str:
    """Explain one divergence: who asked, which occurrence, and what differs."""
    agent = divergence.agent
    head = f"agent {agent!r}, occurrence {divergence.occurrence}: "
    if divergence.recorded_times:
        return (
            head
            + f"made the same ask a {_ordinal(divergence.occurrence)} time; the recording has it "
            f"only {divergence.recorded_times} time(s)"
        )
    if divergence.closest is None:
        return head + "asked something, and the recording holds no harness call at all"
    text = head + "asked something the recording does not contain"
    if divergence.closest.agent != agent:
        text += f" (the recording has no ask from agent {agent!r})"
    return f"{text}; diff against the closest recorded ask:\n{divergence.diff}"
