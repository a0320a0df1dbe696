"""Every exception the library raises, under one base class.

This module owns the error vocabulary and nothing else. Errors that end a run carry the
partial :class:`~openharness_actors.WorkflowResult` as ``partial`` (``None`` only when the run
never started). Causes are always chained (``raise ... from cause``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._core._result import WorkflowResult

__all__ = [
    "ActivationLimitError",
    "ActivationTimeoutError",
    "BudgetExceededError",
    "ExternalSignalError",
    "HarnessError",
    "OpenHarnessError",
    "OutputParseError",
    "ReplayDivergenceError",
    "RestartIntensityError",
    "StoreError",
    "TemplateError",
    "UnknownOptionError",
    "UnstorableValueError",
    "UserCodeError",
    "WorkerLostError",
    "WorkflowCancelledError",
    "WorkflowDefinitionError",
    "WorkflowTimeoutError",
]


class OpenHarnessError(Exception):
    """Base class of every error raised by openharness_actors.

    ``partial`` is the partial :class:`WorkflowResult` when the error ended a run, else ``None``.
    """

    partial: WorkflowResult[Any] | None
    failures: tuple[OpenHarnessError, ...] = ()
    """When several failures ended a run at once: all of them, this one first (each other
    one is also added as a note)."""

    def __init__(self, *args: object, partial: WorkflowResult[Any] | None = None) -> None:
        super().__init__(*args)
        self.partial = partial


class WorkflowDefinitionError(OpenHarnessError, ValueError):
    """The workflow, an agent or the run options are invalid.

    Raised before any signal is published or any harness is called. ``agent`` names the agent
    at fault (``None`` for run-level problems) and ``problems`` lists every problem found.
    """

    def __init__(
        self,
        message: str,
        *,
        agent: str | None = None,
        problems: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.agent = agent
        self.problems = tuple(problems) or (message,)


class UnknownOptionError(WorkflowDefinitionError, TypeError):
    """A run was given an option its entry point does not take: a misspelt name, or one that
    belongs elsewhere (``state=`` on ``resume``). Raised before anything runs.

    Also a ``TypeError``, like Python's own "unexpected keyword argument" (which is what an
    unknown option raised before the options had one definition), so code catching either
    keeps working. ``unknown`` names the refused options, ``known`` the run options that entry
    point takes (besides its own parameters, such as ``agents`` and ``state``).
    """

    def __init__(self, message: str, *, unknown: Sequence[str], known: Sequence[str]) -> None:
        super().__init__(message)
        self.unknown = tuple(unknown)
        self.known = tuple(known)


class ExternalSignalError(OpenHarnessError, ValueError):
    """A signal sent into a run from outside was refused: its name is undeclared or in an
    engine namespace, its payload has no JSON form, or the run is over.

    Nothing entered the log. ``name`` is the refused name, ``patterns`` the run's declared
    ``external`` patterns (their sources).
    """

    def __init__(
        self,
        message: str,
        *,
        name: object = None,
        patterns: Sequence[object] = (),
    ) -> None:
        super().__init__(message)
        self.name = name
        self.patterns = tuple(str(p) for p in patterns)


class TemplateError(WorkflowDefinitionError):
    """A prompt template is malformed, or a path in it does not resolve when rendered.

    Raised at definition time for syntax errors and unknown state fields, and at render time
    (before any harness call) for a path that names nothing in the snapshot. ``template`` is
    the template's source and ``path`` the placeholder at fault.
    """

    def __init__(
        self,
        message: str,
        *,
        template: str,
        path: str | None = None,
        agent: str | None = None,
    ) -> None:
        super().__init__(message, agent=agent)
        self.template = template
        self.path = path


class HarnessError(OpenHarnessError):
    """A harness call failed (after its retries).

    ``agent`` names the agent whose activation failed; ``code`` is a short machine-readable
    reason (an HTTP status such as ``"429"`` or a name such as ``"overloaded_error"``);
    ``retryable`` says whether trying again later could succeed; ``status_code`` and
    ``request_id`` are set when the failure came from an HTTP API.
    """

    def __init__(
        self,
        message: str,
        *,
        agent: str | None = None,
        code: str = "harness_error",
        retryable: bool = False,
        status_code: int | None = None,
        request_id: str | None = None,
        partial: WorkflowResult[Any] | None = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.agent = agent
        self.code = code
        self.retryable = retryable
        self.status_code = status_code
        self.request_id = request_id


class OutputParseError(HarnessError):
    """A reply could not be parsed into the agent's ``output`` type.

    ``raw`` is the text the model returned; the message shows it (truncated).
    """

    def __init__(self, message: str, *, raw: str, agent: str | None = None) -> None:
        super().__init__(message, agent=agent, code="output_parse_error", retryable=False)
        self.raw = raw


class UserCodeError(OpenHarnessError):
    """User code (a guard, a prompt callable, an agent body, a reducer, ``end_when``) raised.

    ``where`` says which piece of user code raised (for example ``"guard of agent 'x'"``),
    ``agent`` names the agent when there is one; the original exception is ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        where: str,
        agent: str | None = None,
        partial: WorkflowResult[Any] | None = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.where = where
        self.agent = agent


class ActivationTimeoutError(OpenHarnessError, TimeoutError):
    """One activation of ``agent`` ran longer than the agent's ``timeout`` (seconds)."""

    def __init__(self, message: str, *, agent: str, timeout: float) -> None:
        super().__init__(message)
        self.agent = agent
        self.timeout = timeout


class WorkflowTimeoutError(OpenHarnessError, TimeoutError):
    """The run exceeded its ``timeout``; everything was cancelled.

    ``elapsed`` is the run's duration in seconds and ``partial`` the result up to that point.
    """

    def __init__(
        self, message: str, *, elapsed: float, partial: WorkflowResult[Any] | None = None
    ) -> None:
        super().__init__(message, partial=partial)
        self.elapsed = elapsed


class WorkflowCancelledError(OpenHarnessError):
    """A run started on an engine was cancelled through its handle (``RunHandle.cancel``)."""


class ActivationLimitError(OpenHarnessError):
    """The run reached ``max_activations``: probably a signal loop.

    ``busiest`` lists ``(agent, activations)`` pairs, most active first.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        busiest: Sequence[tuple[str, int]],
        partial: WorkflowResult[Any] | None = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.limit = limit
        self.busiest = tuple(busiest)


class RestartIntensityError(OpenHarnessError):
    """An agent crashed more often than its restart intensity allows; ``causes`` lists why."""

    def __init__(
        self,
        message: str,
        *,
        agent: str,
        causes: Sequence[BaseException],
        partial: WorkflowResult[Any] | None = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.agent = agent
        self.causes = tuple(causes)


class ReplayDivergenceError(HarnessError):
    """A replayed run asked something the recording does not contain.

    Raised by the replay harness in place of a harness call, so it fails the activation (and
    the run) like any harness failure, with ``code="replay_divergence"`` in ``harness:error``.
    ``agent`` and ``occurrence`` (1-based: the n-th time this run made that same ask) identify
    the ask; ``diff`` is a readable description of what differs from the closest recorded ask;
    ``divergences`` lists every divergence when the replay was told to collect them all.
    """

    def __init__(
        self,
        message: str,
        *,
        agent: str | None = None,
        occurrence: int | None = None,
        diff: str = "",
        divergences: Sequence[Any] = (),
        partial: WorkflowResult[Any] | None = None,
    ) -> None:
        super().__init__(
            message, agent=agent, code="replay_divergence", retryable=False, partial=partial
        )
        self.occurrence = occurrence
        self.diff = diff
        self.divergences = tuple(divergences)


class BudgetExceededError(OpenHarnessError):
    """A run or batch reached its ``budget``; no model call was started after that.

    ``spent`` is what was spent in all (a ``Spend``: ``usd``, ``input_tokens``,
    ``output_tokens``, ``calls``), ``budget`` the :class:`~openharness_actors.Budget`,
    ``by_agent`` the spend per agent name (a batch sums its cases; ``"*"`` holds cases charged
    as a whole by a distributed batch). ``partial`` is the run's partial ``WorkflowResult``,
    or for a batch its partial ``BatchResult`` (the cases that finished).
    """

    partial: Any

    def __init__(
        self,
        message: str,
        *,
        spent: Any,
        budget: Any,
        by_agent: Mapping[str, Any],
        partial: Any = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.spent = spent
        self.budget = budget
        self.by_agent = dict(by_agent)


class StoreError(OpenHarnessError):
    """A recording store could not read or write: missing recording, corrupt or newer file.

    ``location`` names the file (and line, when known) or the recording at fault. When a
    recording or journal could not be written and that failed the run, ``partial`` is the
    run's result.
    """

    def __init__(
        self,
        message: str,
        *,
        location: str | None = None,
        partial: WorkflowResult[Any] | None = None,
    ) -> None:
        super().__init__(message, partial=partial)
        self.location = location


class UnstorableValueError(StoreError, ValueError):
    """A recorded run published a value its recording cannot store (a string with a lone
    surrogate, an int past Python's int-to-string limit, an object that is not JSON data).

    Raised where the signal is published, so the activation (or the run) fails with it.
    ``agent`` names the publishing agent (``None`` for the engine), ``signal`` the signal
    and ``key`` the path inside its payload (for example ``['output'][2]``).
    """

    def __init__(self, message: str, *, agent: str | None, signal: str, key: str) -> None:
        super().__init__(message, location=f"{signal} {key}")
        self.agent = agent
        self.signal = signal
        self.key = key


class WorkerLostError(OpenHarnessError):
    """A distributed batch lost its workers: a case's worker died ``attempts`` times (the
    case's recorded ``error_type``), or no worker is left to run the remaining cases.

    ``worker`` names the last worker lost.
    """

    def __init__(self, message: str, *, worker: str | None = None, attempts: int = 0) -> None:
        super().__init__(message)
        self.worker = worker
        self.attempts = attempts
