"""The examples do what their docstrings say (beyond exiting 0, which test_docs checks)."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pytest

from openharness_actors import ScriptedHarness

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # attrs resolves string annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _quiet_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", io.StringIO())


async def test_parallel_review_runs_reviewers_in_parallel_and_decides_once() -> None:
    """Three reviewers overlap in time; the decider's join fires once, after all of them."""
    example = load("parallel_review")
    harness = ScriptedHarness(example.SCRIPT, delay=0.05)
    result = await example.review(example.CHANGE, harness)
    assert result.state.decision.startswith("REQUEST CHANGES")
    assert result.metrics.agents["decider"].activations == 1
    names = [(s.name, s.agent) for s in result.signals]
    first_done = min(i for i, (n, _) in enumerate(names) if n == "agent:completed")
    assert sum(n == "agent:activated" for n, _ in names[:first_done]) == 3  # all started first
    decider_start = names.index(("agent:activated", "decider"))
    assert sum(n == "review:done" for n, _ in names[:decider_start]) == 3
    # The join, not end_when, makes it decide once: the run ends at quiescence.
    assert result.status == "completed" and not result.terminated_early
    activated = result.signals[decider_start]
    assert activated.payload["consumed"] == [s.id for s in result.signals_named("review:done")]


async def test_plan_code_review_loops_until_approved() -> None:
    """The coder codes twice (the first review asks for changes); approval ends the run."""
    example = load("plan_code_review")
    result = await example.build("count words", ScriptedHarness(example.SCRIPT))
    assert result.terminated_early and result.state.review.approved
    assert result.state.rounds == 2
    assert result.metrics.agents["coder"].completed == 2
    assert "Counter" in result.state.code


async def test_plan_code_review_stops_at_round_limit_without_approval() -> None:
    """A reviewer that never approves stops the loop at MAX_ROUNDS, by quiescence."""
    example = load("plan_code_review")
    script = {
        **example.SCRIPT,
        "coder": "code",
        "reviewer": '{"approved": false, "comments": "no"}',
    }
    result = await example.build("count words", ScriptedHarness(script))
    assert result.status == "completed" and not result.state.review.approved
    assert result.state.rounds == example.MAX_ROUNDS


async def test_trading_reducers_keep_the_book_consistent() -> None:
    """Every tick is marked, every fill counted: quantity and cash agree with the fills."""
    example = load("trading_accumulator")
    result = await example.trade()
    book = result.state.book
    assert result.metrics.signals_by_name["tick"] == len(example.PRICES)
    assert result.metrics.signals_by_name["order"] == len(example.PRICES)
    assert book.price == example.PRICES[-1] and book.trades == len(book.fills) > 0
    assert book.quantity == sum(f.quantity for f in book.fills)
    assert book.cash == pytest.approx(10_000 - sum(f.quantity * f.price for f in book.fills))
