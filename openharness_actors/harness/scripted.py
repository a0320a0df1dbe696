"""ScriptedHarness: deterministic replies per agent, for tests, examples and benchmarks.

It never touches the network. Each agent's script is a string (always that reply), a callable
taking the :class:`HarnessRequest` and returning the reply (sync or async), or a sequence of
those used in turn. A script item that is an exception is raised instead of replying
(injected failures); a plain exception is wrapped in :class:`HarnessError`.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeAlias

import trio

from .._core._usage import Usage
from .._errors import HarnessError
from .limits import CallLimiter, current_call_limiter, limited_call
from .protocol import EventSink, HarnessRequest, HarnessResult, TextComplete, TextDelta

__all__ = ["Reply", "ReplyItem", "ScriptedHarness"]

ReplyItem: TypeAlias = str | BaseException | Callable[[HarnessRequest], str | Awaitable[str]]
"""One scripted reply: text, a callable producing it, or an exception to raise."""

Reply: TypeAlias = ReplyItem | Sequence[ReplyItem]
"""An agent's script: one item used every time, or a sequence used in turn."""


class ScriptedHarness:
    """Replies from a script instead of a model.

    ``replies`` maps agent names to scripts; ``default`` serves agents not in it (without one,
    such an agent fails with :class:`HarnessError`). ``delay`` (seconds, or a mapping per
    agent) is slept before replying, so it follows trio's clock (``MockClock`` included).
    ``chunk_size`` splits the reply into that many characters per ``text:delta``; ``None``
    sends it as one delta. Usage is estimated as one token per four characters.

    ``limiter`` (a :class:`~openharness_actors.harness.limits.CallLimiter`) is consulted
    before each reply, holding its permit through the delay, as a model call would; without
    one the ambient limiter of a batch run with ``limits=`` is used. A call is estimated at
    its prompt's tokens and settled with its usage.

    ``calls`` records every request in call order; :meth:`count` counts them per agent. A
    sequence that runs out raises :class:`HarnessError` naming the agent.
    """

    name = "scripted"

    def __init__(
        self,
        replies: Mapping[str, Reply] | None = None,
        *,
        default: Reply | None = None,
        delay: float | Mapping[str, float] = 0.0,
        chunk_size: int | None = None,
        limiter: CallLimiter | None = None,
    ) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError("chunk_size must be a positive number of characters")
        self._replies = dict(replies or {})
        self._default = default
        self._delay = delay
        self._chunk_size = chunk_size
        self._limiter = limiter
        self._used: Counter[str] = Counter()
        self.calls: list[HarnessRequest] = []

    def preflight(self) -> None:
        """Nothing to check: a script needs no key or network."""

    def count(self, agent: str | None = None) -> int:
        """Number of calls made for ``agent`` (all agents when ``None``)."""
        if agent is None:
            return len(self.calls)
        return sum(1 for request in self.calls if request.agent == agent)

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        """Reply to ``request`` from the script; see the class docstring."""
        self.calls.append(request)
        item = self._next_item(request.agent)
        limiter = self._limiter or current_call_limiter()
        if limiter is None:  # the common case: no context manager to enter
            return await self._reply(request, item, emit)
        async with limited_call(limiter, (len(request.prompt) + 3) // 4) as call:
            result = await self._reply(request, item, emit)
            call.used_tokens = result.usage.total_tokens
        return result

    async def _reply(
        self, request: HarnessRequest, item: ReplyItem, emit: EventSink
    ) -> HarnessResult:
        delay = (
            self._delay
            if isinstance(self._delay, float | int)
            else self._delay.get(request.agent, 0.0)
        )
        if delay:
            await trio.sleep(delay)
        if isinstance(item, HarnessError):
            raise item
        if isinstance(item, BaseException):
            raise HarnessError(
                f"scripted failure for agent {request.agent!r}: {item!r}", agent=request.agent
            ) from item
        if isinstance(item, str):
            text = item
        else:
            produced = item(request)
            text = await produced if inspect.isawaitable(produced) else produced
            if not isinstance(text, str):
                raise HarnessError(
                    f"scripted reply callable for agent {request.agent!r} returned "
                    f"{type(text).__name__}, not str",
                    agent=request.agent,
                )
        if self._chunk_size is None:
            await emit(TextDelta(text))
        else:
            for start in range(0, len(text), self._chunk_size):
                await emit(TextDelta(text[start : start + self._chunk_size]))
        await emit(TextComplete(text))
        usage = Usage(
            input_tokens=(len(request.prompt) + 3) // 4, output_tokens=(len(text) + 3) // 4
        )
        return HarnessResult(output=text, usage=usage, stop_reason="end_turn", model=request.model)

    def _next_item(self, agent: str) -> ReplyItem:
        script = self._replies.get(agent, self._default)
        if script is None:
            raise HarnessError(f"no scripted reply for agent {agent!r}", agent=agent)
        if isinstance(script, str | BaseException) or callable(script):
            return script
        index = self._used[agent]
        self._used[agent] += 1
        if index >= len(script):
            raise HarnessError(
                f"scripted replies for agent {agent!r} ran out after {len(script)} calls",
                agent=agent,
            )
        return script[index]
