"""The Message Batches harness: :class:`AnthropicBatchHarness` pools the model calls of
concurrent activations into batches at half the price. ``_harness`` is the harness (requests
and API calls), ``_pool`` pools and drives batches (polling included), ``_results`` routes
results back into turns, ``_journal`` keeps submitted batch ids."""

from ._harness import (
    AnthropicBatchHarness as AnthropicBatchHarness,
    AnthropicBatchHarnessStatistics as AnthropicBatchHarnessStatistics,
    ModelBatchCounts as ModelBatchCounts,
)

__all__ = ["AnthropicBatchHarness", "AnthropicBatchHarnessStatistics", "ModelBatchCounts"]
