"""A fake Anthropic Messages API on 127.0.0.1, for tests, examples and benchmarks.

One concept per module: :mod:`._replies` (what it answers), :mod:`._emulation` (the API's
shapes: validation, SSE events, messages, usage), :mod:`._server` (the HTTP server, its
records and statistics, the command line). The Message Batches endpoints live in
:mod:`openharness_actors.testing._fake_batches`, prompt-cache accounting in
:mod:`openharness_actors.testing._fake_cache`. ``python -m
openharness_actors.testing.fake_anthropic`` serves it.
"""

from ._replies import (
    FakeReply as FakeReply,
    FakeToolUse as FakeToolUse,
    dropped_reply as dropped_reply,
    http_error as http_error,
    stalled_reply as stalled_reply,
    stream_error as stream_error,
    text_reply as text_reply,
    tool_use_reply as tool_use_reply,
)
from ._server import (
    FakeAnthropic as FakeAnthropic,
    FakeAnthropicStatistics as FakeAnthropicStatistics,
    RecordedRequest as RecordedRequest,
    main as main,
    open_fake_anthropic as open_fake_anthropic,
)

__all__ = [
    "FakeAnthropic",
    "FakeAnthropicStatistics",
    "FakeReply",
    "FakeToolUse",
    "RecordedRequest",
    "dropped_reply",
    "http_error",
    "open_fake_anthropic",
    "stalled_reply",
    "stream_error",
    "text_reply",
    "tool_use_reply",
]
