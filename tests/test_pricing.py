"""The price table of Claude models and cost estimates."""

from __future__ import annotations

import pytest

from openharness_actors import Usage
from openharness_actors.harness._pricing import PRICES, estimate_cost, model_price


def test_current_models_are_priced() -> None:
    """Current model ids, dated ids and the 1M-context suffix resolve to a price."""
    assert model_price("claude-sonnet-5-5") is PRICES["claude-sonnet-5-5"]
    assert model_price("claude-haiku-4-5-20251001") is PRICES["claude-haiku-4-5"]
    assert model_price("claude-opus-4-8[1m]") is PRICES["claude-opus-4-8"]
    assert model_price("claude-sonnet-4-20250514") is PRICES["claude-sonnet-4"]


def test_unknown_models_have_no_price() -> None:
    """A model missing from the table gives None, never a guess."""
    assert model_price("claude-sonnet-9") is None
    assert model_price(None) is None
    assert estimate_cost("gpt-4", Usage(input_tokens=10)) is None


def test_cost_counts_every_kind_of_token() -> None:
    """Input, output, cache reads and cache writes are each priced per million tokens."""
    usage = Usage(
        input_tokens=1_000_000,
        output_tokens=1_000_000,
        cache_read_input_tokens=1_000_000,
        cache_creation_input_tokens=1_000_000,
    )
    assert estimate_cost("claude-opus-4-6", usage) == pytest.approx(5 + 25 + 0.5 + 6.25)
    assert estimate_cost(
        "claude-haiku-4-5", Usage(input_tokens=2_000, output_tokens=100)
    ) == pytest.approx(0.0025)


def test_prompt_length_tier() -> None:
    """Claude Haiku 5.5 prices a request with a prompt over 100k tokens at its higher tier."""
    short = Usage(input_tokens=100_000, output_tokens=1_000)
    long = Usage(input_tokens=90_000, cache_read_input_tokens=20_000, output_tokens=1_000)
    assert estimate_cost("claude-haiku-5-5", short) == pytest.approx(
        (100_000 * 0.10 + 1_000 * 0.50) / 1e6
    )
    assert estimate_cost("claude-haiku-5-5", long) == pytest.approx(
        (90_000 * 0.50 + 20_000 * 0.05 + 1_000 * 2.50) / 1e6
    )
