"""The run options: the one definition of what a run is given besides its initial state.

:class:`RunSettings` is that definition. Every option a user passes to ``run_reactive``,
``resume``, ``Engine.start``, ``prepare`` or ``run_batch`` is one of its fields, declared once
with its default and its meaning, and :meth:`RunSettings.validate` is the one validator
(``Workflow`` reports its problems together with the agents' before anything runs). Each entry
point turns the user's keyword arguments into a ``RunSettings`` once per run
(:func:`settings_for`, which refuses an unknown option by name before anything runs) and
carries that object down: the journal, the budget, the batch executors and the Ray workers all
receive it, never a loose dict of options.

Why the ``TypedDict`` classes exist: the entry points keep the keyword call signature users
write (``run_reactive(agents=..., state=..., timeout=30)``), but are declared as
``**options: Unpack[RunKeywords[S]]`` (PEP 692, ``typing.Unpack`` on Python 3.11) rather than
spelling every option out again in each signature; the ``TypedDict`` is what lets mypy and
pyright still check each option's name and type at the call. It has to repeat the fields'
names and types (a ``TypedDict`` cannot be derived from an attrs class), so
``tests/define/test_options.py`` pins its keys and types to the fields: the two cannot drift.
Each entry point takes a subset, and its :class:`Entry` says which and why: ``resume`` takes
no ``state``, ``recording`` or ``run_id`` (the journal has them), ``prepare`` no ``journal``
or ``budget`` (they need the run to be run, not only built), and ``run_batch`` has its own
batch-wide ``budget`` and ``run_id``.

This module owns the options' names, defaults, meaning and validation. It builds no run and
starts nothing: ``Workflow._build`` turns validated settings into the core's ``RunOptions``.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Literal, TypedDict, TypeVar

import attrs

from .._budget import Budget, BudgetLedger
from .._core._external import ExternalInput
from .._core._reporting import Reporter
from .._core._run import DEFAULT_MAX_ACTIVATIONS
from .._core._signal import Signal
from .._core._supervisor import RestartPolicy
from .._errors import UnknownOptionError, WorkflowDefinitionError
from ..harness.protocol import Harness
from ..journal._journal import Journal, JournalPlan
from ..recording._plan import RecordingOption
from ._agent import AgentSpec
from ._pattern import Pattern, PatternLike, compile_pattern

__all__ = [
    "BATCH",
    "ENGINE",
    "PREPARE",
    "RESUME",
    "RUN",
    "BatchKeywords",
    "Entry",
    "PrepareKeywords",
    "ResumeKeywords",
    "RunKeywords",
    "RunSettings",
    "Validation",
    "settings_for",
]

S = TypeVar("S")

ReducerMapping = (
    Mapping[str, Callable[[S, Signal], S]]
    | Mapping[re.Pattern[str], Callable[[S, Signal], S]]
    | Mapping[PatternLike, Callable[[S, Signal], S]]
)
"""``reducers=``: pattern -> ``(state, signal) -> state``. Spelled as a union because a
mapping's key type is invariant: a ``dict[str, ...]`` held in a variable is not a
``Mapping[str | re.Pattern[str], ...]``."""

Reducers = tuple[tuple[Pattern, Callable[[Any, Signal], Any]], ...]


@attrs.frozen(kw_only=True)
class RunSettings(Generic[S]):
    """Everything one run is given besides its initial state (see the module docstring).

    Built once per run by an entry point; immutable, so an entry point derives what it
    needs with ``attrs.evolve`` (a batch case's ``run_id``, an engine's reporters).
    """

    agents: Mapping[str, AgentSpec]
    """The run's agents, name -> agent made by ``workflow.agent()``; required, not empty."""

    harness: Harness | None = None
    """Serves every agent that has no harness of its own."""

    end_when: Callable[[S], Any] | None = None
    """``state -> bool``, checked against the initial state and after every state change;
    once true the run ends early (``terminated_early``), as ``on_end`` says."""

    on_end: Literal["cancel", "drain"] = "cancel"
    """When ``end_when`` holds: ``"cancel"`` cancels the activations in flight and freezes
    the state; ``"drain"`` lets them finish."""

    timeout: float | None = None
    """Seconds for the whole run, then :class:`WorkflowTimeoutError`; ``None``: no limit."""

    reducers: ReducerMapping[S] | None = None
    """Signal pattern -> ``(state, signal) -> state``, applied by the state actor."""

    reporters: Sequence[Reporter] = ()
    """Objects whose ``on_signal(signal)`` sees every signal of the run."""

    max_activations: int | None = DEFAULT_MAX_ACTIVATIONS
    """Loop guard: at most this many activations, then :class:`ActivationLimitError`;
    ``None`` is unbounded."""

    run_id: str | None = None
    """The run's id (a fresh ``run_…`` id when ``None``); a journaled run's journal is named
    after it."""

    restart: RestartPolicy | None = None
    """Make the run a supervisor that restarts crashed agents instead of failing."""

    mailbox_size: int = 64
    """Bound of each agent's mailbox (``math.inf``: unbounded)."""

    inbox_size: int = 4096
    """Bound of the broker's inbox (``math.inf``: unbounded): publishers wait while it is
    full. A bound, not an allocation (the inbox holds only what is queued); at 4096, a
    thousand activations started at once publish without parking (at 256 each parked about
    four times, a scheduler round each)."""

    recording: RecordingOption = None
    """Record the run into a store or replay a recording instead of calling harnesses: a
    :class:`Recording`, a mode string (``"live"``, ``"record"``, ``"replay"``, ``"auto"``), a
    resolved plan, or ``None`` (live). Not with ``journal``."""

    journal: Journal | None = None
    """Write the run durably so that ``Workflow.resume`` can finish it after a crash."""

    budget: Budget | BudgetLedger | None = None
    """Stop the run's model calls once spent and raise :class:`BudgetExceededError`. A
    :class:`BudgetLedger` (never given by users) is how a batch shares one account among its
    cases; users pass a :class:`Budget`."""

    external: Sequence[PatternLike] | None = None
    """Patterns of the signals that may come from outside the run (``RunHandle.send``,
    ``resume(..., signals=...)``): a quiet run some agent of which listens on one waits."""

    on_wait: Literal["wait", "suspend"] = "wait"
    """What a quiet run waiting for ``external`` signals does: ``"wait"`` (until they come, or
    ``end_input``), or ``"suspend"`` (needs ``journal``): end with status ``"suspended"``,
    to be resumed with the signals."""

    def validate(self) -> Validation:
        """Check every option at once; see :class:`Validation`. Raises nothing."""
        problems: list[str] = []
        if self.harness is not None and not isinstance(self.harness, Harness):
            problems.append(f"harness {self.harness!r} does not implement the Harness protocol")
        reducers = self._compiled_reducers(problems)
        if self.end_when is not None and not callable(self.end_when):
            problems.append("end_when must be callable (state -> bool)")
        if self.on_end not in ("cancel", "drain"):
            problems.append(f"on_end must be 'cancel' or 'drain', not {self.on_end!r}")
        timeout = self.timeout
        if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
            problems.append(f"timeout must be a positive number of seconds, not {timeout!r}")
        limit = self.max_activations
        if limit is not None and not (isinstance(limit, int) and limit >= 1):
            problems.append(f"max_activations must be an integer >= 1, not {limit!r}")
        if self.restart is not None and not isinstance(self.restart, RestartPolicy):
            problems.append(f"restart must be a RestartPolicy, not {self.restart!r}")
        if not _bound_ok(self.mailbox_size, 0):
            problems.append(f"mailbox_size must be an integer >= 0, not {self.mailbox_size!r}")
        if not _bound_ok(self.inbox_size, 1):
            problems.append(f"inbox_size must be an integer >= 1, not {self.inbox_size!r}")
        for reporter in self.reporters:
            if not callable(getattr(reporter, "on_signal", None)):
                problems.append(f"reporter {reporter!r} has no on_signal(signal) method")
        if self.journal is not None:
            if not isinstance(self.journal, Journal):
                problems.append(f"journal must be a Journal, not {self.journal!r}")
            if self.recording is not None:
                problems.append(
                    "give either recording= or journal=: a journaled run is recorded by its journal"
                )
        if self.budget is not None and not isinstance(self.budget, Budget | BudgetLedger):
            problems.append(f"budget must be a Budget, not {self.budget!r}")
        external = ExternalInput.build(
            self.external,
            self.agents,
            self.on_wait,
            journaled=self.journal is not None or isinstance(self.recording, JournalPlan),
            problems=problems,
        )
        return Validation(tuple(problems), reducers, external)

    def compiled_reducers(self) -> Reducers:
        """The reducers with their patterns compiled; invalid ones are left out (and reported
        by :meth:`validate`)."""
        return self._compiled_reducers([])

    def _compiled_reducers(self, problems: list[str]) -> Reducers:
        if self.reducers is None:
            return ()
        if not isinstance(self.reducers, Mapping):
            problems.append(
                f"reducers must be a mapping of pattern -> reducer, not {self.reducers!r}"
            )
            return ()
        compiled = []
        for raw, reducer in self.reducers.items():
            try:
                pattern = compile_pattern(raw)
            except WorkflowDefinitionError as exc:
                problems.append(f"reducer: {exc}")
                continue
            if not callable(reducer):
                problems.append(f"reducer for {pattern.source!r} is not callable")
                continue
            compiled.append((pattern, reducer))
        return tuple(compiled)


def _bound_ok(value: Any, least: int) -> bool:
    return (isinstance(value, int) and value >= least) or value == math.inf


@attrs.frozen
class Validation:
    """What :meth:`RunSettings.validate` found: ``problems`` (empty when every option is
    valid), and the forms the run is built from: the compiled ``reducers`` and the run's
    ``external`` input (``None`` without ``external=``; a fresh one per call, it is the
    run's own)."""

    problems: tuple[str, ...]
    reducers: Reducers
    external: ExternalInput | None


# -- the keyword arguments, for static typing (see the module docstring) -------------------


class _SharedKeywords(TypedDict, Generic[S], total=False):
    """The options every entry point takes."""

    harness: Harness | None
    end_when: Callable[[S], Any] | None
    on_end: Literal["cancel", "drain"]
    timeout: float | None
    reducers: ReducerMapping[S] | None
    reporters: Sequence[Reporter]
    max_activations: int | None
    restart: RestartPolicy | None
    mailbox_size: int
    inbox_size: int
    external: Sequence[PatternLike] | None
    on_wait: Literal["wait", "suspend"]


class PrepareKeywords(_SharedKeywords[S], total=False):
    """``Workflow.prepare``'s options."""

    run_id: str | None
    recording: RecordingOption


class RunKeywords(PrepareKeywords[S], total=False):
    """``run_reactive``'s and ``Engine.start``'s options: all of them."""

    journal: Journal | None
    budget: Budget | None


class ResumeKeywords(_SharedKeywords[S], total=False):
    """``resume``'s options (``journal`` is a parameter of its own there)."""

    budget: Budget | None


class BatchKeywords(_SharedKeywords[S], total=False):
    """``run_batch``'s run options (its ``budget`` and ``run_id`` are batch-wide parameters)."""

    recording: RecordingOption
    journal: Journal | None


# -- entry points ------------------------------------------------------------------------


@attrs.frozen
class Entry:
    """An entry point that takes run options: its ``name`` (for errors), the ``options`` it
    takes in ``**options``, and why it takes none of the ``elsewhere`` ones."""

    name: str
    options: frozenset[str]
    elsewhere: Mapping[str, str] = attrs.field(factory=dict)

    def refusal(self, unknown: Sequence[str]) -> UnknownOptionError:
        """The error for the ``unknown`` options given to this entry point."""
        known = sorted(self.options)
        parts = []
        for name in unknown:
            if name in self.elsewhere:
                parts.append(f"{name}= ({self.elsewhere[name]})")
                continue
            close = difflib.get_close_matches(name, known, n=1)
            parts.append(f"{name}=" + (f" (did you mean {close[0]}=?)" if close else ""))
        message = (
            f"{self.name}() got unknown option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(parts)}; its run options are: {', '.join(known)}"
        )
        return UnknownOptionError(message, unknown=unknown, known=known)


def _keys(keywords: Any) -> frozenset[str]:
    return frozenset(keywords.__required_keys__ | keywords.__optional_keys__)


RUN = Entry("run_reactive", _keys(RunKeywords))
ENGINE = Entry("Engine.start", _keys(RunKeywords))
PREPARE = Entry(
    "prepare",
    _keys(PrepareKeywords),
    {
        "journal": "prepare only builds a run: run_reactive() or Engine.start() journal it",
        "budget": "prepare only builds a run: run_reactive() or Engine.start() apply a budget",
    },
)
RESUME = Entry(
    "resume",
    _keys(ResumeKeywords),
    {
        "state": "a resumed run starts again from its journaled initial state",
        "recording": "a resumed run is recorded by its journal",
        "run_id": "the run to resume is resume()'s first argument",
    },
)
BATCH = Entry("run_batch", _keys(BatchKeywords))


def settings_for(
    entry: Entry, agents: Mapping[str, AgentSpec], options: Mapping[str, Any], **own: Any
) -> RunSettings[Any]:
    """The settings of a run given ``agents``, the keyword ``options`` of ``entry`` and the
    options that are parameters of ``entry``'s own (``own``: ``resume``'s ``journal``).

    Raises :class:`UnknownOptionError` (a :class:`WorkflowDefinitionError` and a
    ``TypeError``) naming every option ``entry`` does not take; values are checked later,
    by :meth:`RunSettings.validate`, with everything else about the run.
    """
    unknown = [name for name in options if name not in entry.options]
    if unknown:
        raise entry.refusal(unknown)
    return RunSettings(agents=agents, **options, **own)
