"""Budgets: stop a run or a batch once its model calls have spent what it may spend.

``budget=Budget(usd=..., input_tokens=..., output_tokens=...)`` on ``run_reactive``,
``resume``, ``Engine.start`` or ``run_batch``. A :class:`BudgetLedger` is the account: every harness call's
``usage`` and ``cost_usd`` are charged to it, per agent. Each agent's harness is wrapped, when
the run is prepared, in a :class:`BudgetGate` that refuses to start a call once the ledger
has reached its budget (a :class:`HarnessError` with ``code="budget_exceeded"``, not
retryable), so the spend exceeds the budget by at most the calls already in flight when it
was reached. A run that had a call refused raises :class:`BudgetExceededError` (with
``spent``, ``budget``, ``by_agent`` and the ``partial`` result) whatever else happened. A
batch shares one ledger among its cases, stops starting cases once it is reached, and raises
the error with the partial :class:`BatchResult`; cases never started, and cases the budget
stopped midway, are not in the results file, so running the batch again with a larger budget
finishes them.

Works with any harness that reports usage (``usd`` needs ``cost_usd``). ``input_tokens``
counts every prompt token: uncached input, cache reads and cache writes. With ``ray=`` each
worker process cannot share the driver's ledger: the driver charges each finished case and
stops handing out cases once the budget is reached (calls of cases already running finish).

This module owns the ledger, the gate and their wiring (``Workflow`` gates a run's harnesses
when it builds the run and awaits it :func:`within_budget`); it does not run anything itself.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ._core._usage import Usage
from ._errors import BudgetExceededError, HarnessError, OpenHarnessError
from .harness.protocol import EventSink, Harness, HarnessRequest, HarnessResult

if TYPE_CHECKING:
    from ._define._options import RunSettings
    from .batch._results import BatchResult, CaseResult

__all__ = [
    "BatchBudget",
    "Budget",
    "BudgetGate",
    "BudgetLedger",
    "RunBudget",
    "Spend",
    "ledger_for",
    "run_budget_for",
    "within_budget",
]

R = TypeVar("R")


def _check_limit(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is None:
        return
    whole = attribute.name != "usd"
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        kind = "an integer" if whole else "a number"
        raise TypeError(f"Budget {attribute.name} must be {kind} or None, not {value!r}")
    if value < 0:
        raise ValueError(f"Budget {attribute.name} must be >= 0, not {value!r}")


def _limit() -> Any:
    return attrs.field(default=None, validator=_check_limit)


@attrs.frozen
class Budget:
    """What a run or batch may spend: ``usd`` (estimated cost), ``input_tokens`` (prompt
    tokens, cache traffic included) and ``output_tokens``; ``None`` is no limit on that
    figure. The budget is reached when any limit is reached."""

    usd: float | None = _limit()
    input_tokens: int | None = _limit()
    output_tokens: int | None = _limit()

    def reached_by(self, spent: Spend) -> bool:
        """Whether ``spent`` reaches (or passes) any of the limits."""
        return (
            (self.usd is not None and spent.usd >= self.usd)
            or (self.input_tokens is not None and spent.input_tokens >= self.input_tokens)
            or (self.output_tokens is not None and spent.output_tokens >= self.output_tokens)
        )


@attrs.frozen
class Spend:
    """What model calls spent: ``usd`` (sum of known costs), prompt ``input_tokens`` (cache
    traffic included), ``output_tokens`` and the number of ``calls``."""

    usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0

    @classmethod
    def of(cls, usage: Usage, cost_usd: float | None, calls: int = 1) -> Spend:
        prompt = (
            usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens
        )
        return cls(cost_usd or 0.0, prompt, usage.output_tokens, calls)

    def __add__(self, other: Spend) -> Spend:
        return Spend(
            self.usd + other.usd,
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.calls + other.calls,
        )


class BudgetLedger:
    """The account of one budget, shared by every run charged to it (one run, or every case
    of a batch): ``spent`` in all, ``by_agent``, calls ``in_flight``, calls ``refused``."""

    def __init__(self, budget: Budget) -> None:
        if not isinstance(budget, Budget):
            raise TypeError(f"budget must be a Budget, not {budget!r}")
        self.budget = budget
        self.spent = Spend()
        self.by_agent: dict[str, Spend] = {}
        self.in_flight = 0
        self.refused = 0

    @property
    def reached(self) -> bool:
        return self.budget.reached_by(self.spent)

    def charge(self, agent: str, spend: Spend) -> None:
        self.spent = self.spent + spend
        self.by_agent[agent] = self.by_agent.get(agent, Spend()) + spend

    def charge_case(self, result: CaseResult) -> None:
        """Charge a finished case as one lump (the distributed executor's way)."""
        self.charge("*", Spend.of(result.usage, result.cost_usd, calls=0))

    def error(self, what: str, partial: Any) -> BudgetExceededError:
        spent = self.spent
        return BudgetExceededError(
            f"{what} reached its budget ({_describe(self.budget)}): spent ${spent.usd:.6f}, "
            f"{spent.input_tokens} input and {spent.output_tokens} output tokens in "
            f"{spent.calls} calls",
            spent=spent,
            budget=self.budget,
            by_agent=dict(self.by_agent),
            partial=partial,
        )


def ledger_for(budget: Budget | BudgetLedger) -> BudgetLedger:
    """``budget`` itself when it is a ledger already (a batch's), else a fresh ledger."""
    return budget if isinstance(budget, BudgetLedger) else BudgetLedger(budget)


class BudgetGate:
    """A harness that charges ``inner``'s calls to ``run``'s ledger and refuses new calls
    once it is reached; everything else is ``inner``'s."""

    def __init__(self, inner: Harness, run: RunBudget) -> None:
        self.inner = inner
        self.name = inner.name
        self._run = run

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def preflight(self) -> None:
        self.inner.preflight()

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        ledger = self._run.ledger
        if ledger.reached:
            ledger.refused += 1
            self._run.refused += 1
            raise HarnessError(
                f"agent {request.agent!r}: the budget ({_describe(ledger.budget)}) is spent; "
                "no new model call is started",
                agent=request.agent,
                code="budget_exceeded",
            )
        ledger.in_flight += 1
        try:
            result = await self.inner.run(request, emit)
        finally:
            ledger.in_flight -= 1
        ledger.charge(request.agent, Spend.of(result.usage, result.cost_usd))
        return result


class RunBudget:
    """One run's view of a ledger: the gates of its harnesses and its refused calls."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger
        self.refused = 0
        self._gates: dict[int, BudgetGate] = {}

    def gate(self, harness: Harness) -> BudgetGate:
        gate = self._gates.get(id(harness))
        if gate is None:
            gate = self._gates[id(harness)] = BudgetGate(harness, self)
        return gate


def run_budget_for(budget: Budget | BudgetLedger | None) -> RunBudget | None:
    """One run's view of ``budget`` (a batch passes its shared ledger); ``None`` without a
    budget, or for a value that is not one (the run's validation reports it)."""
    if isinstance(budget, Budget | BudgetLedger):
        return RunBudget(ledger_for(budget))
    return None


async def within_budget(run_budget: RunBudget | None, run: Awaitable[R]) -> R:
    """Await ``run`` (a run whose harnesses ``run_budget`` gates); if the budget refused
    one of its calls, raise :class:`BudgetExceededError` (with the partial result) instead
    of its result or of the error the refusal caused."""
    if run_budget is None:
        return await run
    try:
        result = await run
    except OpenHarnessError as exc:
        if run_budget.refused and not isinstance(exc, BudgetExceededError):
            raise run_budget.ledger.error("the run", exc.partial) from exc
        raise
    if run_budget.refused:
        raise run_budget.ledger.error("the run", result)
    return result


class BatchBudget:
    """A batch's budget: one ledger for every case (given to local cases as their
    ``budget``; charged per finished case when ``distributed``), and the stop."""

    def __init__(self, budget: Budget, *, distributed: bool) -> None:
        self.ledger = BudgetLedger(budget)
        self.distributed = distributed
        self.stopped = False

    def settings(self, settings: RunSettings[Any]) -> RunSettings[Any]:
        """The cases' settings: local cases are charged to the batch's ledger."""
        return settings if self.distributed else attrs.evolve(settings, budget=self.ledger)

    def note(self, result: CaseResult) -> bool:
        """Charge a finished case (distributed); whether to record it: a case the budget
        stopped is left pending (not in the results file), to run when the batch is run again."""
        if self.distributed:
            self.ledger.charge_case(result)
        if result.error_type == BudgetExceededError.__name__:
            self.stopped = True
            return False
        return True

    def stop_starting(self) -> bool:
        """Whether no further case may start (records that one was held back)."""
        if self.ledger.reached:
            self.stopped = True
        return self.stopped

    async def cases(
        self, cases: AsyncGenerator[tuple[int, Any, str], None]
    ) -> AsyncGenerator[tuple[int, Any, str], None]:
        """``cases`` until the budget is reached."""
        async with aclosing(cases) as items:
            async for case in items:
                if self.stop_starting():
                    return
                yield case

    def check(self, result: BatchResult) -> None:
        """Raise :class:`BudgetExceededError` when the budget held cases or calls back."""
        if self.stopped or self.ledger.refused:
            raise self.ledger.error("the batch", result)


def _describe(budget: Budget) -> str:
    parts = [
        f"{name}={value}"
        for name, value in (
            ("usd", budget.usd),
            ("input_tokens", budget.input_tokens),
            ("output_tokens", budget.output_tokens),
        )
        if value is not None
    ]
    return ", ".join(parts) or "no limit"
