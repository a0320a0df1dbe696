"""AnthropicHarness: Claude through the official ``anthropic`` SDK, streamed, under trio.

This package and the batch harness built on it (:mod:`.anthropic_batch`) are the only ones
that import ``anthropic``. The harness turns one :class:`HarnessRequest` into Messages API
calls made with ``anthropic.AsyncAnthropic``, whose HTTP layer picks trio's backend at run
time, so calls run natively in the caller's trio tasks (no threads, no asyncio).

This module owns the harness object: its configuration and validation, the HTTP client (one
per trio run), pickling, statistics, the retry loop of one model turn (:meth:`_turn`, which
the batch harness replaces) and the cost of a turn (:meth:`_cost`). The rest is one concern
per module: :mod:`._params` builds the request, :mod:`._tool_loop` runs the conversation
(tool turns, the repair turn), :mod:`._traffic` holds the limits, :mod:`._stream` sends one
streaming request and reads its reply, :mod:`._failures` maps exceptions to failed attempts,
:mod:`._request` checks outputs and estimates tokens. It never touches workflow state and
never logs prompts, replies or the API key.

Streaming: a request is sent with ``messages.with_streaming_response.create(stream=True)``
(the SDK builds, authenticates and sends it, and raises its typed errors for error
statuses), and the SSE body is decoded by :mod:`.._messages_stream` rather than by the SDK's
``AsyncStream``. A stream abandoned mid-way (``error`` event, timeout, cancellation) must
release its connection at once; ``AsyncStream`` leaves its nested async generators to the
garbage collector when that happens, which trio reports as ``ResourceWarning`` and which
delays the close. See :func:`._stream._read_stream` for how the body is read instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

import anthropic
import attrs
import trio

from ..._core._usage import Usage
from ..._define._policy import RetryPolicy
from ..._errors import HarnessError, WorkflowDefinitionError
from ..._logging import get_logger
from .._messages_stream import TurnAssembler
from .._pricing import estimate_cost
from .._redact import redact_chain
from .._tools import ToolSpec
from ..limits import CallLimiter, current_call_limiter
from ..protocol import EventSink, HarnessRequest, HarnessResult, HarnessRetry
from ._failures import _Failure, status_failure
from ._params import build_params, system_for, tools_for
from ._request import _used_tokens
from ._stream import stream_reply
from ._tool_loop import run_activation
from ._traffic import TrafficLimits

__all__ = ["DEFAULT_MODEL", "AnthropicHarness", "AnthropicHarnessStatistics", "ClaudeHarness"]

DEFAULT_MODEL = "claude-sonnet-5-5"
"""The model used when neither the harness nor the agent names one."""


@attrs.frozen
class AnthropicHarnessStatistics:
    """A snapshot of a harness's traffic since it was created.

    ``requests`` counts HTTP attempts started (retries included), ``retries`` the attempts
    that were retried, ``in_flight`` the requests now holding a concurrency slot and
    ``peak_in_flight`` the most at once; ``waiting`` is the number of tasks waiting for a slot.
    ``requests_available``/``tokens_available`` are the rate limiters' levels (``None``
    without that limit).
    """

    requests: int
    retries: int
    in_flight: int
    peak_in_flight: int
    waiting: int
    max_concurrency: int | None
    requests_available: float | None = None
    tokens_available: float | None = None


class AnthropicHarness:
    """Runs agents on Claude through the Messages API.

    Request: the agent's rendered prompt is the user message; ``request.system`` (already
    rendered) replaces the harness's ``system``; ``request.model`` replaces ``model``.
    ``max_tokens``, ``temperature`` (``None``: the API default; recent models refuse other
    values) and ``thinking`` (an extended-thinking budget in tokens, ``"adaptive"``, or
    ``None`` for the model's default) apply to every call.

    Events: text and thinking deltas as they arrive, a complete event per text or thinking
    block, ``tool:call`` when a ``tool_use`` block is complete and ``tool:result`` when the tool
    returned. After a retried attempt the deltas of the new attempt start from the beginning;
    the ``harness:retry`` signal in between marks where. The result's ``output`` is the text of
    the last turn; ``usage`` and ``cost_usd`` sum the activation's turns (tool and repair turns
    included, failed attempts not); ``cost_usd`` is ``None`` for a model without a price in
    :mod:`openharness_actors.harness._pricing`.

    Tools: the agent's callables (see :mod:`._tools`). The model may ask for tools up to
    ``max_tool_turns`` times per activation; the tools of one turn run concurrently; asking
    again after that raises :class:`HarnessError` (code ``"max_tool_turns"``). A tool's
    exception goes back to the model as an ``is_error`` result and into ``tool:result``.

    Structured output: when the agent has ``output=T`` (not ``str``), the system prompt gains
    the JSON Schema of ``T`` and an instruction to reply with one JSON value only (a forced
    tool is not used: recent models refuse forced tool choice). With ``repair_output`` a
    reply that does not parse into ``T`` gets one follow-up turn showing the problem; the
    engine parses the final reply and raises :class:`OutputParseError` if it still does not fit.

    Limits, shared by every run and activation using this object: ``max_concurrency``
    requests at once (``None``: no limit), ``requests_per_minute`` and ``tokens_per_minute``
    (token buckets; tokens are estimated at four characters each before a request, then
    corrected with the reported input, cache-write and output tokens). Limits shared beyond
    this object: each request also holds a permit of ``limiter`` (a :class:`CallLimiter`, for
    example one limiting every process of a Ray batch), or else of the ambient limiter that
    ``run_batch(limits=...)`` installs.

    Pickling (a Ray batch ships the harness to its workers) keeps the configuration and gives
    the copy fresh limits, counters and no HTTP client; a harness made with ``client=`` cannot
    be pickled.

    Prompt caching: with ``cache=True`` the system prompt and the last tool definition are
    marked ``cache_control`` (see :mod:`._caching`), so calls that share them read them from
    the cache; ``usage`` then reports ``cache_creation_input_tokens`` and
    ``cache_read_input_tokens``, and ``cost_usd`` prices them at the cache rates.

    Retries: HTTP 408, 409, 429 and 5xx (the status decides, whatever the body's error
    type), ``overloaded_error``/``api_error`` events in the stream, connection errors,
    incomplete streams and per-call timeouts are retried up to ``max_retries`` times, waiting
    ``retry-after`` when the response has it and ``retry``'s exponential backoff with jitter
    otherwise (``retry`` is a :class:`RetryPolicy`; its ``attempts`` is replaced by
    ``max_retries + 1``). Other 4xx are not retried. The SDK's own retries are turned off, so
    every retry is a ``harness:retry`` signal. The final failure raises :class:`HarnessError`
    with ``code``, ``status_code``, ``request_id`` and the agent, the SDK error as its cause.

    ``timeout`` bounds each HTTP attempt, streaming included (``None``: no bound); it is also
    the SDK client's connect/read timeout. Cancellation (``end_when``, a run timeout, the
    host) closes the HTTP stream at once; nothing of a cancelled call outlives it.

    Client: give ``api_key`` (default: ``ANTHROPIC_API_KEY`` when the first call is made),
    ``base_url`` (default: the SDK's, ``ANTHROPIC_BASE_URL`` included), or a configured
    ``client`` (an ``AsyncAnthropic``, used with its retries off; you close it). A client the
    harness makes belongs to the trio run that made it: close it with :meth:`aclose` (or
    ``async with harness:``) before that run ends. The key never appears in ``repr``,
    signals, logs or error messages.
    """

    name = "anthropic"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        max_tokens: int = 4096,
        temperature: float | None = None,
        system: str | None = None,
        thinking: int | Literal["adaptive"] | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = 600.0,
        client: anthropic.AsyncAnthropic | None = None,
        max_concurrency: int | None = 32,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        max_retries: int = 4,
        retry: RetryPolicy | None = None,
        max_tool_turns: int = 8,
        repair_output: bool = True,
        limiter: CallLimiter | None = None,
        cache: bool = False,
    ) -> None:
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, not {max_tokens!r}")
        if isinstance(thinking, int) and not 1024 <= thinking < max_tokens:
            raise ValueError(
                f"thinking budget must be >= 1024 and < max_tokens ({max_tokens}), not {thinking}"
            )
        if thinking is not None and not isinstance(thinking, int) and thinking != "adaptive":
            raise ValueError(
                f"thinking must be a token budget, 'adaptive' or None, not {thinking!r}"
            )
        if client is not None and (api_key is not None or base_url is not None):
            raise ValueError("give either client= or api_key=/base_url=, not both")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1 or None, not {max_concurrency!r}")
        if max_retries < 0 or max_tool_turns < 0:
            raise ValueError("max_retries and max_tool_turns must be >= 0")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds or None, not {timeout!r}")
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.system = system
        self.thinking: int | Literal["adaptive"] | None = thinking
        self.timeout = timeout
        self.max_tool_turns = max_tool_turns
        self.repair_output = repair_output
        self.max_concurrency = max_concurrency
        self.cache = cache
        self._api_key = api_key
        self._base_url = base_url
        self._given_client = client
        self._client: anthropic.AsyncAnthropic | None = None
        self._client_run: trio.lowlevel.TrioToken | None = None
        self._retry = attrs.evolve(
            retry or RetryPolicy(initial_delay=0.5, multiplier=2.0, max_delay=30.0, jitter=0.25),
            attempts=max_retries + 1,
        )
        self._limiter = limiter
        self._limits = TrafficLimits(max_concurrency, requests_per_minute, tokens_per_minute)
        self._tool_specs: dict[Callable[..., Any], ToolSpec] = {}
        self._instructions: dict[Any, str] = {}
        self._requests = 0
        self._retries = 0
        self._in_flight = 0
        self._peak = 0

    def __getstate__(self) -> dict[str, Any]:
        if self._given_client is not None:
            raise TypeError(
                "an AnthropicHarness made with client= cannot be pickled: give base_url= (and "
                "let each process read its key from ANTHROPIC_API_KEY) instead"
            )
        state = dict(self.__dict__)
        for transient in ("_client", "_client_run"):
            del state[transient]
        state["_limits"] = self._limits.config()  # the copy gets fresh limits
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        limits = state.pop("_limits")
        self.__dict__.update(state)
        self._client = None
        self._client_run = None
        self._requests = self._retries = self._in_flight = self._peak = 0
        self._limits = TrafficLimits(*limits)

    def __repr__(self) -> str:
        where = self._base_url or ("<client>" if self._given_client is not None else "default")
        return (
            f"AnthropicHarness(model={self.model!r}, base_url={where!r}, "
            f"max_concurrency={self.max_concurrency!r})"
        )

    def preflight(self) -> None:
        """Raise :class:`WorkflowDefinitionError` when no API key is available."""
        if self._given_client is not None:
            client = self._given_client
            if client.api_key or client.auth_token or getattr(client, "credentials", None):
                return
        elif self._key():
            return
        raise WorkflowDefinitionError(
            "AnthropicHarness has no API key: set the ANTHROPIC_API_KEY environment variable "
            "or pass AnthropicHarness(api_key=...)"
        )

    def statistics(self) -> AnthropicHarnessStatistics:
        """Traffic figures since the harness was created."""
        slots, rpm, tpm = self._limits.slots, self._limits.rpm, self._limits.tpm
        return AnthropicHarnessStatistics(
            requests=self._requests,
            retries=self._retries,
            in_flight=self._in_flight,
            peak_in_flight=self._peak,
            waiting=slots.statistics().tasks_waiting if slots is not None else 0,
            max_concurrency=self.max_concurrency,
            requests_available=rpm.statistics().available if rpm is not None else None,
            tokens_available=tpm.statistics().available if tpm is not None else None,
        )

    async def aclose(self) -> None:
        """Close the HTTP client the harness made (a client passed in is left open)."""
        client, self._client, self._client_run = self._client, None, None
        if client is not None and client is not self._given_client and self._given_client is None:
            await client.close()

    async def __aenter__(self) -> AnthropicHarness:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        """One activation: the model call, the tool loop and the output repair turn.

        Raises :class:`HarnessError` when a call fails after its retries, a tool or output
        type has no JSON schema, or the tool loop exceeds ``max_tool_turns``.
        """
        agent = request.agent
        log = get_logger(run_id=request.run_id, agent=agent, harness=self.name)
        tools = tools_for(request, self._tool_specs)
        params = build_params(
            request,
            tools,
            system_for(request, self.system, self._instructions),
            model=request.model or self.model,
            max_tokens=self.max_tokens,
            temperature=self.temperature,
            thinking=self.thinking,
            cache=self.cache,
        )

        async def turn(turn_params: dict[str, Any]) -> TurnAssembler:
            return await self._turn(agent, turn_params, emit, log)

        return await run_activation(
            request,
            params,
            tools,
            emit,
            turn=turn,
            cost=self._cost,
            max_tool_turns=self.max_tool_turns,
            repair_output=self.repair_output,
            log=log,
        )

    def _cost(self, model: str, usage: Usage) -> float | None:
        """The estimated price of one turn (the batch harness charges half)."""
        return estimate_cost(model, usage)

    async def _turn(
        self, agent: str, params: dict[str, Any], emit: EventSink, log: Any
    ) -> TurnAssembler:
        """One model turn, retried; raises the final failure as :class:`HarnessError`."""
        attempt = 1
        started = trio.current_time()
        while True:
            outcome = await self._attempt(params, emit)
            if isinstance(outcome, TurnAssembler):
                return outcome
            error = outcome.error(agent, attempt)
            if not self._retry.should_retry(error, attempt, trio.current_time() - started):
                log.warning(
                    "anthropic.failed",
                    code=outcome.code,
                    status_code=outcome.status_code,
                    request_id=outcome.request_id,
                    attempts=attempt,
                )
                redact_chain(outcome.cause, self._key())  # a key the server echoed
                raise error from outcome.cause
            delay = (
                outcome.retry_after
                if outcome.retry_after is not None
                else self._retry.delay(attempt)
            )
            self._retries += 1
            log.warning(
                "anthropic.retry",
                code=outcome.code,
                status_code=outcome.status_code,
                request_id=outcome.request_id,
                attempt=attempt,
                delay=delay,
            )
            await emit(HarnessRetry(attempt, delay, outcome.code, self._redact(outcome.message)))
            await trio.sleep(delay)
            attempt += 1

    async def _attempt(self, params: dict[str, Any], emit: EventSink) -> TurnAssembler | _Failure:
        """One HTTP request within the limits (see :meth:`TrafficLimits.admitted`); a failure
        is returned, not raised."""
        client = self._client_for_this_run()
        turn = TurnAssembler()
        shared = self._limiter or current_call_limiter()
        async with self._limits.admitted(params, shared, lambda: _used_tokens(turn.usage)):
            failure = await self._request(client, params, turn, emit)
        return turn if failure is None else failure

    async def _request(
        self,
        client: anthropic.AsyncAnthropic,
        params: dict[str, Any],
        turn: TurnAssembler,
        emit: EventSink,
    ) -> _Failure | None:
        """Stream one reply into ``turn`` holding a concurrency slot; the failure, if any."""
        slots = self._limits.slots
        if slots is not None:
            await slots.acquire()
        self._requests += 1
        self._in_flight += 1
        self._peak = max(self._peak, self._in_flight)
        try:
            return await stream_reply(
                client, params, turn, emit, timeout=self.timeout, redact=self._redact, key=self._key
            )
        finally:
            self._in_flight -= 1
            if slots is not None:
                slots.release()

    def _status_failure(self, exc: anthropic.APIStatusError) -> _Failure:
        """An HTTP error status as a failed attempt (used by the batch harness too)."""
        return status_failure(exc, self._redact)

    def _client_for_this_run(self) -> anthropic.AsyncAnthropic:
        if self._given_client is not None:
            if self._client is None:
                self._client = self._given_client.with_options(max_retries=0)
            return self._client
        run = trio.lowlevel.current_trio_token()
        if self._client is None or self._client_run is not run:
            key = self._key()
            if not key:
                raise HarnessError(
                    "AnthropicHarness has no API key (ANTHROPIC_API_KEY or api_key=)",
                    code="no_api_key",
                )
            self._client = anthropic.AsyncAnthropic(
                api_key=key, base_url=self._base_url, timeout=self.timeout, max_retries=0
            )
            self._client_run = run
        return self._client

    def _key(self) -> str | None:
        return self._api_key or os.environ.get("ANTHROPIC_API_KEY") or None

    def _redact(self, text: str) -> str:
        key = self._key()
        return text.replace(key, "[redacted]") if key else text


ClaudeHarness = AnthropicHarness
"""Another name for :class:`AnthropicHarness`."""
