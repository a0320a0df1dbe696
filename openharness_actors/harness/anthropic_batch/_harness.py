"""AnthropicBatchHarness: Claude through the Message Batches API, at half the price.

It is an :class:`~openharness_actors.harness.anthropic.AnthropicHarness` whose model turns go
through a :class:`~._pool.BatchPool` instead of the streaming Messages endpoint: request
building, tools, the tool loop, output repair, prompt caching and error mapping are the
parent's; this module owns turning one turn's parameters into a pooled batch request (its
``custom_id``) and the Message Batches calls the pool makes; :mod:`._results` turns a batch
result back into a turn (the reply's events, usage, errors). It never calls
``messages.create``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, TypeVar

import anthropic
import attrs
import trio

from ..._core._usage import Usage
from ..._define._policy import RetryPolicy
from ..._errors import HarnessError
from ...batch._results import ModelBatchCounts
from ...journal._journal import Journal
from .._messages_stream import TurnAssembler
from .._pricing import estimate_batch_cost
from ..anthropic import DEFAULT_MODEL, AnthropicHarness, AnthropicHarnessStatistics
from ..anthropic._failures import _Failure
from ..protocol import EventSink, HarnessRetry
from ._journal import BatchJournal
from ._pool import BatchPool, SubmitFailure
from ._results import for_agent, replay_message, result_error

__all__ = ["AnthropicBatchHarness", "AnthropicBatchHarnessStatistics", "ModelBatchCounts"]

T = TypeVar("T")


@attrs.frozen
class AnthropicBatchHarnessStatistics(AnthropicHarnessStatistics):
    """:class:`AnthropicHarnessStatistics` (``requests`` counts Message Batches API calls)
    plus the batches (:class:`ModelBatchCounts`) and ``batch_requests``, the model requests
    submitted in them."""

    batches: ModelBatchCounts = ModelBatchCounts()
    batch_requests: int = 0


class AnthropicBatchHarness(AnthropicHarness):
    """Runs agents on Claude through Message Batches: half the price, minutes not seconds.

    Every model turn of every activation using this object (across all the runs that share
    it, such as the cases of one ``run_batch``) is pooled: a pool is submitted with
    ``client.messages.batches.create`` once it holds ``max_batch_size`` requests or
    ``max_wait`` seconds after its first request, then polled (``poll_interval`` seconds,
    growing by half up to ``max_poll_interval``) until it ended, and each result goes back to
    its activation. The plain Messages endpoint is never called.

    Options are :class:`AnthropicHarness`'s (``model``, ``max_tokens``, ``system``, ``tools``
    via agents, ``cache``, ``max_tool_turns``, ``repair_output``, ``client`` / ``api_key`` /
    ``base_url``, ``timeout`` per API call, ``max_retries`` / ``retry`` for failed API calls
    and retryable results); the concurrency and rate limits do not apply (one batch is one
    request). Each turn's text arrives as one ``text:delta`` and one ``text:complete``;
    ``usage`` is the API's; ``cost_usd`` is at the batch price (half the standard rates,
    :func:`~openharness_actors.harness._pricing.estimate_batch_cost`).

    Results: ``errored`` fails only its own activation with :class:`HarnessError` (``code``
    the error type; ``overloaded_error``/``api_error`` are retryable and asked again, in a
    later batch, up to ``max_retries`` times); ``expired`` (code ``"batch_expired"``,
    retryable, asked again) and ``canceled`` (code ``"batch_canceled"``, not retryable)
    likewise. A batch that cannot be created fails the activations pooled in it.

    Journal: with ``journal=`` (a :class:`~openharness_actors.Journal`) every submitted
    batch's id and request ids are written to the journal's store (see :mod:`._journal`), and
    a request that a journaled batch holds is collected from it: a killed driver started
    again with the same journal pays for no batch twice. With a journal a request's
    ``custom_id`` is a digest of its parameters and its occurrence number in this harness, so
    it is the same when the same case asks again (without one it is a sequence number).
    """

    name = "anthropic-batch"

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
        max_retries: int = 4,
        retry: RetryPolicy | None = None,
        max_tool_turns: int = 8,
        repair_output: bool = True,
        cache: bool = False,
        max_batch_size: int = 1000,
        max_wait: float = 1.5,
        poll_interval: float = 5.0,
        max_poll_interval: float = 60.0,
        journal: Journal | None = None,
        journal_name: str = "anthropic-batches",
    ) -> None:
        if not (isinstance(max_batch_size, int) and 1 <= max_batch_size <= 100_000):
            raise ValueError(
                f"max_batch_size must be an integer in 1..100000, not {max_batch_size!r}"
            )
        if not max_wait >= 0:
            raise ValueError(f"max_wait must be >= 0 seconds, not {max_wait!r}")
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be > 0 seconds, not {poll_interval!r}")
        if journal is not None and not isinstance(journal, Journal):
            raise ValueError(f"journal must be a Journal, not {journal!r}")
        super().__init__(
            model,
            max_tokens=max_tokens,
            temperature=temperature,
            system=system,
            thinking=thinking,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            client=client,
            max_concurrency=None,
            max_retries=max_retries,
            retry=retry,
            max_tool_turns=max_tool_turns,
            repair_output=repair_output,
            cache=cache,
        )
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.journal = journal
        self.journal_name = journal_name
        self._reset_batches()

    def _reset_batches(self) -> None:
        self._pool: BatchPool | None = None
        self._pool_run: trio.lowlevel.TrioToken | None = None
        self._occurrences: Counter[str] = Counter()
        self._sequence = itertools.count(1)
        self._batch_journal = (
            BatchJournal(self.journal, self.journal_name) if self.journal is not None else None
        )

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        for transient in ("_pool", "_pool_run", "_occurrences", "_sequence", "_batch_journal"):
            state.pop(transient, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._reset_batches()

    def __repr__(self) -> str:
        where = self._base_url or ("<client>" if self._given_client is not None else "default")
        return (
            f"AnthropicBatchHarness(model={self.model!r}, base_url={where!r}, "
            f"max_batch_size={self.max_batch_size!r}, max_wait={self.max_wait!r})"
        )

    def model_batch_counts(self) -> ModelBatchCounts:
        """This harness's batches now (shown by ``run_batch``'s progress display)."""
        pool = self._pool
        if pool is None:
            return ModelBatchCounts()
        return ModelBatchCounts(pool.submitted, pool.in_flight, pool.ended, pool.pooled)

    def statistics(self) -> AnthropicBatchHarnessStatistics:
        """Traffic figures since the harness was created (in this trio run)."""
        pool = self._pool
        return AnthropicBatchHarnessStatistics(
            requests=self._requests,
            retries=self._retries,
            in_flight=self._in_flight,
            peak_in_flight=self._peak,
            waiting=0,
            max_concurrency=None,
            batches=self.model_batch_counts(),
            batch_requests=pool.submitted_requests if pool is not None else 0,
        )

    def _cost(self, model: str, usage: Usage) -> float | None:
        return estimate_batch_cost(model, usage)

    def _batch_pool(self) -> BatchPool:
        run = trio.lowlevel.current_trio_token()
        if self._pool is None or self._pool_run is not run:
            self._pool = BatchPool(
                self,
                max_batch_size=self.max_batch_size,
                max_wait=self.max_wait,
                poll_interval=self.poll_interval,
                max_poll_interval=self.max_poll_interval,
            )
            self._pool_run = run
            self._occurrences = Counter()
            self._sequence = itertools.count(1)
        return self._pool

    async def _turn(
        self, agent: str, params: dict[str, Any], emit: EventSink, log: Any
    ) -> TurnAssembler:
        """One model turn as a pooled batch request; retryable results are asked again."""
        body = _batch_params(params)
        journal = self._batch_journal
        digest = _digest(body) if journal is not None else ""
        attempt = 1
        while True:
            pool = self._batch_pool()
            batch_id = None
            if journal is not None:  # the same ask gets the same id in a later process
                custom_id = f"{digest}-{self._occurrences[digest]}"
                self._occurrences[digest] += 1
                batch_id = await journal.batch_of(custom_id)
            else:
                custom_id = f"req_{next(self._sequence)}"
            slot = await pool.call(custom_id, body, batch_id)
            if slot.resubmit:
                if journal is not None and slot.batch_id is not None:
                    journal.forget(slot.batch_id)
                continue
            if slot.error is not None:  # the batch API failed, after its own retries
                raise for_agent(slot.error, agent)
            error = result_error(slot.result, agent)
            if error is None:
                assert slot.result is not None
                return await replay_message(slot.result["message"], emit)
            if not self._retry.should_retry(error, attempt, 0.0):
                log.warning("anthropic_batch.failed", code=error.code, batch_id=slot.batch_id)
                raise error
            self._retries += 1
            await emit(HarnessRetry(attempt, 0.0, error.code, self._redact(str(error))))
            attempt += 1

    # -- the BatchBackend the pool drives ---------------------------------------------------

    async def create_batch(self, requests: Sequence[dict[str, Any]]) -> str:
        client = self._client_for_this_run()
        batch = await self._api_call(
            "submit",
            lambda: client.messages.batches.create(requests=requests),  # type: ignore[arg-type]
        )
        return str(batch.id)

    async def batch_ended(self, batch_id: str) -> bool:
        client = self._client_for_this_run()
        batch = await self._api_call("poll", lambda: client.messages.batches.retrieve(batch_id))
        return batch.processing_status == "ended"

    async def batch_results(self, batch_id: str) -> dict[str, dict[str, Any]]:
        client = self._client_for_this_run()

        async def fetch() -> dict[str, dict[str, Any]]:
            results: dict[str, dict[str, Any]] = {}
            decoder = await client.messages.batches.results(batch_id)
            async for line in decoder:
                results[line.custom_id] = line.result.to_dict(mode="json")
            return results

        return await self._api_call("results", fetch)

    async def journal_batch(self, batch_id: str, custom_ids: Sequence[str]) -> None:
        if self._batch_journal is not None:
            await self._batch_journal.record(batch_id, custom_ids)

    async def _api_call(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """``call()`` within ``timeout``, retried like a Messages call; a final failure
        raises :class:`SubmitFailure`."""
        attempt = 1
        started = trio.current_time()
        while True:
            self._requests += 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            failure: _Failure
            try:
                with trio.fail_after(self.timeout if self.timeout is not None else math.inf):
                    return await call()
            except trio.TooSlowError as exc:
                failure = _Failure("timeout", f"no answer within {self.timeout}s", True, cause=exc)
            except anthropic.APIStatusError as exc:
                failure = self._status_failure(exc)
            except anthropic.APITimeoutError as exc:
                failure = _Failure("timeout", "the request timed out", True, cause=exc)
            except anthropic.APIConnectionError as exc:
                failure = _Failure("connection_error", self._redact(str(exc)), True, cause=exc)
            except anthropic.AnthropicError as exc:
                failure = _Failure("anthropic_error", self._redact(repr(exc)), False, cause=exc)
            finally:
                self._in_flight -= 1
            error = HarnessError(
                f"Message Batches {what} call failed: {failure.message}",
                code=failure.code,
                retryable=failure.retryable,
                status_code=failure.status_code,
                request_id=failure.request_id,
            )
            error.__cause__ = failure.cause
            if not self._retry.should_retry(error, attempt, trio.current_time() - started):
                raise SubmitFailure(error, gone=failure.status_code == 404) from failure.cause
            self._retries += 1
            delay = failure.retry_after
            await trio.sleep(delay if delay is not None else self._retry.delay(attempt))
            attempt += 1


def _batch_params(params: dict[str, Any]) -> dict[str, Any]:
    """A Messages call's parameters as a batch request's ``params`` (``extra_body`` merged)."""
    body = {key: value for key, value in params.items() if key != "extra_body"}
    body.update(params.get("extra_body") or {})
    return body


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return "req_" + hashlib.sha256(canonical.encode()).hexdigest()[:40]
