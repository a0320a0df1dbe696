"""Test kit for workflows built with openharness_actors (public API).

* :func:`capture_signals` collects the signals of every run started in a ``with`` block;
* assertions over a trace (a result, a capture or any signals): :func:`assert_signal`,
  :func:`assert_no_signal`, :func:`assert_count`, :func:`assert_sequence`,
  :func:`assert_causal_chain`, with failure messages that show what the trace holds;
* the pytest plugin (:mod:`.pytest_plugin`, loaded automatically) adds the
  ``workflow_recording`` fixture — record once locally, replay in CI — and
  ``captured_signals``.
"""

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

__all__ = [
    "SignalCapture",
    "assert_causal_chain",
    "assert_count",
    "assert_no_signal",
    "assert_sequence",
    "assert_signal",
    "capture_signals",
    "causal_chain",
    "find_signals",
    "format_signals",
    "signals_of",
]
