"""Signals: immutable values that round-trip through JSON losslessly."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, strategies as st

from openharness_actors import Signal, SignalSource
from openharness_actors._core._signal import new_signal_id

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(
    name=st.text(min_size=1, max_size=30),
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=5),
    seq=st.integers(min_value=0),
    timestamp=st.floats(min_value=0, max_value=4e9),
    agent=st.none() | st.text(max_size=10),
    parent=st.none() | st.text(max_size=10),
)
def test_signal_json_round_trip(
    name: str,
    payload: dict[str, Any],
    seq: int,
    timestamp: float,
    agent: str | None,
    parent: str | None,
) -> None:
    """Any signal with a JSON-compatible payload survives to_json/from_json unchanged."""
    signal = Signal(
        new_signal_id(),
        name,
        payload,
        timestamp,
        seq,
        "run_x",
        SignalSource(agent, "scripted", parent),
    )
    assert Signal.from_json(signal.to_json()) == signal
    assert Signal.from_dict(signal.to_dict()) == signal


def test_signal_is_frozen() -> None:
    """Assigning to a signal's field raises."""
    signal = Signal("sig_1", "a", {}, 0.0, 0, "run")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        signal.name = "b"  # type: ignore[misc]


def test_signal_ids_are_unique_and_prefixed() -> None:
    """Fresh ids start with sig_ and never repeat."""
    ids = {new_signal_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(i.startswith("sig_") for i in ids)


def test_shorthand_properties() -> None:
    """Signal.agent and Signal.parent read the source."""
    signal = Signal("sig_1", "a", {}, 0.0, 0, "run", SignalSource("x", None, "sig_0"))
    assert signal.agent == "x"
    assert signal.parent == "sig_0"
