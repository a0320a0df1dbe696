"""Estimated prices of Claude models, for the cost figures in harness results and metrics.

Prices are Anthropic's list prices for the Claude API in USD per million tokens, as
published on platform.claude.com (checked November 2026): base input, output, cache reads
and cache writes (the 5-minute rate; 1-hour writes cost more and are not told apart in
:class:`Usage`). The Message Batches discount (half of every rate) is
:func:`estimate_batch_cost`; fast-mode, regional and long-context surcharges are not modelled,
except Claude Haiku 5.5's prompt-length tier. These are estimates for dashboards and
budgets, not a bill. A model missing from the table has no price (``None``), never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from .._core._usage import Usage

__all__ = [
    "BATCH_DISCOUNT",
    "PRICES",
    "ModelPrice",
    "estimate_batch_cost",
    "estimate_cost",
    "model_price",
]

_DATED = re.compile(r"-(\d{8}|latest)$")


@attrs.frozen
class ModelPrice:
    """USD per million tokens. A request whose prompt (input, cache reads and cache writes)
    exceeds ``long_prompt_threshold`` tokens is priced entirely at ``long_prompt``."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    long_prompt_threshold: int | None = None
    long_prompt: ModelPrice | None = None

    def cost(self, usage: Usage) -> float:
        """Estimated USD cost of one request's ``usage``."""
        prompt = (
            usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        )
        threshold = self.long_prompt_threshold
        if self.long_prompt is not None and threshold is not None and prompt > threshold:
            return self.long_prompt.cost(usage)
        return (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + usage.cache_read_input_tokens * self.cache_read
            + usage.cache_creation_input_tokens * self.cache_write
        ) / 1_000_000


_FABLE_5_2 = ModelPrice(8.0, 40.0, 0.20, 10.0)
_FABLE_5_1 = ModelPrice(10.0, 50.0, 0.25, 12.50)
_FABLE_5 = ModelPrice(10.0, 50.0, 1.00, 12.50)
_OPUS_5_5 = ModelPrice(4.0, 20.0, 0.20, 5.0)
_OPUS_5 = ModelPrice(5.0, 25.0, 0.50, 6.25)
_OPUS_4_LEGACY = ModelPrice(15.0, 75.0, 1.50, 18.75)
_SONNET_5_5 = ModelPrice(2.0, 10.0, 0.10, 2.50)
_SONNET_5 = ModelPrice(2.0, 10.0, 0.20, 2.50)
_SONNET_4 = ModelPrice(3.0, 15.0, 0.30, 3.75)
_HAIKU_5_5 = ModelPrice(
    0.10,
    0.50,
    0.01,
    0.125,
    long_prompt_threshold=100_000,
    long_prompt=ModelPrice(0.50, 2.50, 0.05, 0.625),
)
_HAIKU_4_5 = ModelPrice(1.0, 5.0, 0.10, 1.25)

PRICES: Mapping[str, ModelPrice] = {
    "claude-fable-5-2": _FABLE_5_2,
    "claude-mythos-5-2": _FABLE_5_2,
    "claude-fable-5-1": _FABLE_5_1,
    "claude-mythos-5-1": _FABLE_5_1,
    "claude-fable-5": _FABLE_5,
    "claude-mythos-5": _FABLE_5,
    "claude-opus-5-5": _OPUS_5_5,
    "claude-opus-5": _OPUS_5,
    "claude-opus-4-8": _OPUS_5,
    "claude-opus-4-7": _OPUS_5,
    "claude-opus-4-6": _OPUS_5,
    "claude-opus-4-5": _OPUS_5,
    "claude-opus-4-1": _OPUS_4_LEGACY,
    "claude-opus-4-0": _OPUS_4_LEGACY,
    "claude-opus-4": _OPUS_4_LEGACY,
    "claude-sonnet-5-5": _SONNET_5_5,
    "claude-sonnet-5": _SONNET_5,
    "claude-sonnet-4-6": _SONNET_4,
    "claude-sonnet-4-5": _SONNET_4,
    "claude-sonnet-4-0": _SONNET_4,
    "claude-sonnet-4": _SONNET_4,
    "claude-3-7-sonnet": _SONNET_4,
    "claude-haiku-5-5": _HAIKU_5_5,
    "claude-haiku-4-5": _HAIKU_4_5,
    "claude-3-5-haiku": ModelPrice(0.80, 4.0, 0.08, 1.0),
    "claude-3-haiku": ModelPrice(0.25, 1.25, 0.03, 0.30),
}
"""Model id (without a date suffix) -> price."""


def model_price(model: str | None) -> ModelPrice | None:
    """The price of ``model`` (a dated id such as ``claude-haiku-4-5-20251001`` and the
    ``[1m]`` context suffix are accepted), or ``None`` when it is not in :data:`PRICES`."""
    if not model:
        return None
    name = model.strip().lower().removesuffix("[1m]")
    return PRICES.get(name) or PRICES.get(_DATED.sub("", name))


def estimate_cost(model: str | None, usage: Usage) -> float | None:
    """Estimated USD cost of one request of ``model`` that used ``usage``; ``None`` when the
    model has no known price."""
    price = model_price(model)
    return None if price is None else price.cost(usage)


BATCH_DISCOUNT = 0.5
"""The Message Batches API charges this fraction of the standard rates (cache rates included)."""


def estimate_batch_cost(model: str | None, usage: Usage) -> float | None:
    """Estimated USD cost of one request of ``model`` made through the Message Batches API;
    ``None`` when the model has no known price."""
    cost = estimate_cost(model, usage)
    return None if cost is None else cost * BATCH_DISCOUNT
