"""AnthropicHarness (alias ClaudeHarness): Claude through the official ``anthropic`` SDK.

One concept per module: :mod:`._harness` (the harness: request building, the tool loop,
limits, cost), :mod:`._stream` (reading a streamed reply), :mod:`._failures` (the exception
map and retry decisions), :mod:`._request` (output repair, token estimates).
"""

from ._harness import (
    DEFAULT_MODEL as DEFAULT_MODEL,
    AnthropicHarness as AnthropicHarness,
    AnthropicHarnessStatistics as AnthropicHarnessStatistics,
    ClaudeHarness as ClaudeHarness,
)

__all__ = ["DEFAULT_MODEL", "AnthropicHarness", "AnthropicHarnessStatistics", "ClaudeHarness"]
