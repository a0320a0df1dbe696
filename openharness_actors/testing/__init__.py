"""Test kit for workflows built with openharness_actors (public API).

* :func:`capture_signals` collects the signals of every run started in a ``with`` block;
* assertions over a trace (a result, a capture or any signals): :func:`assert_signal`,
  :func:`assert_no_signal`, :func:`assert_count`, :func:`assert_sequence`,
  :func:`assert_causal_chain`, with failure messages that show what the trace holds;
* the pytest plugin (:mod:`.pytest_plugin`, loaded automatically) adds the
  ``workflow_recording`` fixture — record once locally, replay in CI — and
  ``captured_signals``;
* a fake Anthropic Messages API server (:mod:`.fake_anthropic`: :func:`open_fake_anthropic`,
  scripted replies, errors, latency; also ``python -m openharness_actors.testing.fake_anthropic``)
  for testing Claude-backed workflows offline. Its names load on first access.
"""

import typing as _typing

from .._lazy import lazy_exports as _lazy_exports
from ._assertions import (
    assert_causal_chain as assert_causal_chain,
    assert_count as assert_count,
    assert_no_signal as assert_no_signal,
    assert_sequence as assert_sequence,
    assert_signal as assert_signal,
    causal_chain as causal_chain,
    find_signals as find_signals,
    format_signals as format_signals,
    signals_of as signals_of,
)
from ._capture import SignalCapture as SignalCapture, capture_signals as capture_signals

if _typing.TYPE_CHECKING:
    from .fake_anthropic import (
        FakeAnthropic as FakeAnthropic,
        FakeAnthropicStatistics as FakeAnthropicStatistics,
        FakeReply as FakeReply,
        FakeToolUse as FakeToolUse,
        RecordedRequest as RecordedRequest,
        dropped_reply as dropped_reply,
        http_error as http_error,
        open_fake_anthropic as open_fake_anthropic,
        stalled_reply as stalled_reply,
        stream_error as stream_error,
        text_reply as text_reply,
        tool_use_reply as tool_use_reply,
    )

_FAKE = (
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
)

__all__ = [
    "FakeAnthropic",
    "FakeAnthropicStatistics",
    "FakeReply",
    "FakeToolUse",
    "RecordedRequest",
    "SignalCapture",
    "assert_causal_chain",
    "assert_count",
    "assert_no_signal",
    "assert_sequence",
    "assert_signal",
    "capture_signals",
    "causal_chain",
    "dropped_reply",
    "find_signals",
    "format_signals",
    "http_error",
    "open_fake_anthropic",
    "signals_of",
    "stalled_reply",
    "stream_error",
    "text_reply",
    "tool_use_reply",
]


__getattr__, __dir__ = _lazy_exports(__name__, globals(), ".fake_anthropic", _FAKE)

from .._public import publish as _publish  # noqa: E402

_publish(globals(), __all__, __name__)
