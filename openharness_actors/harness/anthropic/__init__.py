"""AnthropicHarness (alias ClaudeHarness): Claude through the official ``anthropic`` SDK.

One concept per module: :mod:`._harness` (the harness object: configuration, client, retries
of a turn, cost), :mod:`._params` (request building), :mod:`._tool_loop` (tool turns and the
repair turn), :mod:`._traffic` (concurrency and rate limits), :mod:`._stream` (one streamed
request and its reply), :mod:`._failures` (the exception map and retry decisions),
:mod:`._request` (output checks, token estimates).
"""

from ._harness import (
    DEFAULT_MODEL as DEFAULT_MODEL,
    AnthropicHarness as AnthropicHarness,
    AnthropicHarnessStatistics as AnthropicHarnessStatistics,
    ClaudeHarness as ClaudeHarness,
)

__all__ = ["DEFAULT_MODEL", "AnthropicHarness", "AnthropicHarnessStatistics", "ClaudeHarness"]
