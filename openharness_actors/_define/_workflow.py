"""Workflow definitions: ``create_workflow(State)``, ``.agent(...)`` and ``.run_reactive(...)``.

This module validates: every problem with an agent is found when it is defined (patterns,
``updates`` key, template paths, emits, options), and every problem with a run before any
signal is published or harness called (unknown keys for dict states, missing harness, harness
preflight, and the run options, which ``_options`` defines and validates). All problems found
are reported together in one :class:`WorkflowDefinitionError`. Every run is built by
``Workflow._build`` and run by ``Workflow._execute`` (or ``_resume``), whichever entry point it
came from; it starts no task itself: the run's tasks belong to the core (``_core._run``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar, Unpack, overload

from .._budget import RunBudget, run_budget_for, within_budget
from .._core._ambient import ambient_observers
from .._core._extension import RunExtension
from .._core._result import WorkflowResult
from .._core._routing import RoutingTable
from .._core._run import RunCore, RunOptions
from .._core._signal import Signal
from .._core._supervisor import ON_ERROR_CHOICES
from .._errors import TemplateError, WorkflowDefinitionError
from .._json import to_jsonable
from .._logging import get_logger
from ..harness.protocol import Harness
from ..journal._journal import Journal
from ..journal._resume import resume_run, run_journaled
from ..recording._plan import RecordingPlan, plan_recording, resolve_recording
from ._agent import AgentContext, AgentSpec, coerce_sequence, emit_name_problem
from ._all_of import AllOf
from ._check import Finding, check_flow, log_findings
from ._flow import build_flow
from ._graph import render_graph
from ._options import (
    PREPARE,
    RESUME,
    RUN,
    PrepareKeywords,
    ResumeKeywords,
    RunKeywords,
    RunSettings,
    settings_for,
)
from ._pattern import Pattern, PatternLike, compile_pattern
from ._policy import RetryPolicy
from ._state import StateModel
from ._template import Template

__all__ = ["Workflow", "create_workflow"]

S = TypeVar("S")

_AGENT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_ROUTING_CACHE_SIZE = 32


class Workflow(Generic[S]):
    """A reactive workflow over state type ``S``; see :func:`create_workflow`."""

    def __init__(self, state_type: type[S] | Any) -> None:
        self.state_model = StateModel.of(state_type)
        self._routing_cache: dict[tuple[Any, ...], tuple[Any, RoutingTable]] = {}
        self._valid_agents: dict[tuple[Any, ...], tuple[AgentSpec, ...]] = {}
        """Agent sets (names and spec ids) found valid, per set of state keys: a run of the
        same agents skips their checks (the specs are kept alive with their entry)."""

    @property
    def state_type(self) -> Any:
        return self.state_model.state_type

    def agent(
        self,
        *,
        activate_on: Sequence[PatternLike | AllOf] | PatternLike | AllOf,
        prompt: str | Callable[[AgentContext[S]], str] | None = None,
        emits: Sequence[str] | str = (),
        when: Callable[[AgentContext[S]], Any] | None = None,
        updates: str | None = None,
        harness: Harness | None = None,
        model: str | None = None,
        system: str | Callable[[AgentContext[S]], str] | None = None,
        output: type[Any] | None = None,
        tools: Sequence[Callable[..., Any]] = (),
        timeout: float | None = None,
        retry: RetryPolicy | int | None = None,
        max_concurrency: int | None = None,
        body: Callable[[AgentContext[S]], Any] | None = None,
        on_error: Literal["fail", "skip", "emit"] = "fail",
        error_signal: str | None = None,
        name: str | None = None,
    ) -> AgentSpec:
        """Define an agent.

        ``activate_on``: the patterns of the signals that wake it (at least one), and joins
        (:func:`all_of`): each entry activates the agent on its own.
        ``prompt``: a template (``{{ state.x }}``, ``{{ signal.payload.y }}`` …) or a callable
        ``ctx -> str``; the rendered text is the user message. ``body``: instead of a prompt,
        a plain Python callable ``ctx -> output`` (sync or async) run without any harness.
        ``emits``: signal names published after the update is committed. ``when``: a guard
        ``ctx -> bool``; false gives ``agent:skipped``. ``updates``: the top-level state key
        the output is written to. ``harness``/``model``/``system``: per-agent overrides.
        ``output``: a type the reply is parsed into (JSON, structured with cattrs); without it
        the output is the reply text. ``tools``: Python callables the model may call.
        ``timeout``: seconds per attempt. ``retry``: a :class:`RetryPolicy` or a number of
        attempts. ``max_concurrency``: at most this many activations at once (the rest wait
        in order). ``on_error``: when an activation fails for good (after its retries),
        ``"fail"`` fails the run (or, under a run's ``restart`` policy, crashes and restarts the
        agent), ``"skip"`` records ``agent:failed`` and carries on, ``"emit"`` also publishes
        ``error_signal`` (payload: agent, error, error_type, trigger) for other agents to react
        to. ``name``: used in error messages before the agent is given a run name.

        Raises :class:`WorkflowDefinitionError` listing every problem found.
        """
        frame = sys._getframe(1)
        defined_at = f"{frame.f_code.co_filename}:{frame.f_lineno}"
        problems: list[str] = []

        patterns: list[Pattern | AllOf] = []
        raw_patterns = coerce_sequence(activate_on)
        if not raw_patterns:
            problems.append("activate_on is empty: give at least one signal pattern")
        for raw in raw_patterns:
            if isinstance(raw, AllOf):
                join_problems = raw.problems()
                problems.extend(f"activate_on: {p}" for p in join_problems)
                if not join_problems:
                    patterns.append(raw.compiled())
                continue
            try:
                patterns.append(compile_pattern(raw))
            except WorkflowDefinitionError as exc:
                problems.append(f"activate_on: {exc}")

        emit_names = tuple(coerce_sequence(emits))
        for emit in emit_names:
            problem = emit_name_problem(emit)
            if problem:
                problems.append(problem)

        fields = self.state_model.fields
        if updates is not None:
            if not isinstance(updates, str):
                problems.append(f"updates must be a state key (str), not {type(updates).__name__}")
            elif fields is not None and updates not in fields:
                problems.append(
                    f"updates={updates!r} is not a field of {self.state_model.type_name} "
                    f"(fields: {', '.join(sorted(fields))})"
                )

        if body is not None and prompt is not None:
            problems.append("give either prompt (a harness call) or body (plain Python), not both")
        if body is None and prompt is None:
            problems.append("prompt is missing (or give body= for a plain Python agent)")
        if body is not None and not callable(body):
            problems.append("body must be callable")
        if when is not None and not callable(when):
            problems.append("when must be callable (ctx -> bool)")

        compiled_prompt = self._compile_text("prompt", prompt, problems)
        compiled_system = self._compile_text("system", system, problems)

        tool_list = tuple(tools)
        for tool in tool_list:
            if not callable(tool):
                problems.append(f"tool {tool!r} is not callable")
        if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
            problems.append(f"timeout must be a positive number of seconds, not {timeout!r}")
        if max_concurrency is not None and not (
            isinstance(max_concurrency, int) and max_concurrency >= 1
        ):
            problems.append(f"max_concurrency must be an integer >= 1, not {max_concurrency!r}")
        policy: RetryPolicy | None
        if isinstance(retry, bool) or not (retry is None or isinstance(retry, int | RetryPolicy)):
            problems.append(f"retry must be a RetryPolicy or a number of attempts, not {retry!r}")
            policy = None
        elif isinstance(retry, int):
            if retry < 1:
                problems.append(f"retry must be at least 1 attempt, not {retry}")
                policy = None
            else:
                policy = RetryPolicy(attempts=retry)
        else:
            policy = retry
        if on_error not in ON_ERROR_CHOICES:
            problems.append(
                f"on_error must be one of {', '.join(ON_ERROR_CHOICES)}, not {on_error!r}"
            )
        elif on_error == "emit":
            if error_signal is None:
                problems.append('on_error="emit" needs error_signal, the signal name to publish')
            else:
                problem = emit_name_problem(error_signal)
                if problem:
                    problems.append(f"error_signal: {problem}")
        elif error_signal is not None:
            problems.append('error_signal is only used with on_error="emit"')
        if harness is not None and not isinstance(harness, Harness):
            problems.append(
                f"harness {harness!r} does not implement the Harness protocol "
                "(name, preflight(), async run(request, emit))"
            )

        spec = AgentSpec(
            activate_on=tuple(patterns),
            emits=emit_names,
            prompt=compiled_prompt,
            system=compiled_system,
            when=when,
            updates=updates,
            harness=harness,
            model=model,
            output=output,
            tools=tool_list,
            timeout=float(timeout) if isinstance(timeout, int | float) else None,
            retry=policy,
            max_concurrency=max_concurrency,
            body=body,
            on_error=on_error,
            error_signal=error_signal,
            name=name,
            defined_at=defined_at,
        )
        if not problems:
            problems.extend(self._template_problems(spec, fields))
        if problems:
            raise _definition_error(spec.label(), problems, name)
        return spec

    def _compile_text(
        self, what: str, source: Any, problems: list[str]
    ) -> Template | Callable[[AgentContext[Any]], Any] | None:
        compiled: Callable[[AgentContext[Any]], Any]
        if source is None:
            return None
        if isinstance(source, str):
            try:
                return Template.compile(source)
            except TemplateError as exc:
                problems.append(f"{what}: {exc}")
                return None
        if callable(source):
            compiled = source
            return compiled
        problems.append(
            f"{what} must be a template string or a callable, not {type(source).__name__}"
        )
        return None

    def _template_problems(self, spec: AgentSpec, fields: frozenset[str] | None) -> list[str]:
        problems: list[str] = []
        for what, template in (("prompt", spec.prompt), ("system", spec.system)):
            if isinstance(template, Template):
                problems.extend(f"{what}: {p}" for p in template.check_fields(fields, fields))
        return problems

    # -- analysis -----------------------------------------------------------------------

    def check(
        self,
        *,
        agents: Mapping[str, AgentSpec],
        reducers: Mapping[Any, Any] | Sequence[PatternLike | Pattern] | None = None,
        external: Sequence[PatternLike | Pattern] = (),
    ) -> tuple[Finding, ...]:
        """Analyse the signal flow of ``agents`` before running it; returns the findings.

        ``reducers`` is the run's ``reducers=`` mapping (or just its patterns); ``external``
        the patterns of signals that may come from outside the run. Kinds: ``self_wake``
        (warning: an agent's pattern matches a signal its own activation produces, such as
        ``text:complete``), ``unreachable`` (warning: nothing a run can produce wakes the
        agent), ``unconsumed`` (info: an emit nobody listens to). Patterns are compared
        glob-aware. Never raises on a valid definition; runs nothing.
        """
        flow = build_flow(
            agents, list(reducers or ()), external, state_fields=self.state_model.fields
        )
        return check_flow(flow)

    def graph(
        self,
        agents: Mapping[str, AgentSpec],
        format: Literal["mermaid", "dot"] = "mermaid",
        *,
        reducers: Mapping[Any, Any] | Sequence[PatternLike | Pattern] | None = None,
        external: Sequence[PatternLike] = (),
        activations: Mapping[str, int] | None = None,
    ) -> str:
        """The signal flow of ``agents`` as a diagram: Mermaid (``"mermaid"``) or Graphviz
        DOT (``"dot"``) text.

        Agents are boxes, ``workflow:start`` (and ``external``, ``reducers`` when given) are
        drawn apart, joins are diamonds; an edge is labelled with the signals that connect
        its ends. ``activations`` (agent name -> count, say from a run's
        ``result.metrics.agents``) is written into the boxes. Raises
        :class:`WorkflowDefinitionError` for an unknown format.
        """
        flow = build_flow(
            agents, list(reducers or ()), external, state_fields=self.state_model.fields
        )
        return render_graph(flow, format, activations)

    # -- running ------------------------------------------------------------------------

    def prepare(
        self,
        *,
        agents: Mapping[str, AgentSpec],
        state: S | Mapping[str, Any],
        observers: Sequence[Callable[[Signal], None]] = (),
        extensions: Sequence[RunExtension] = (),
        **options: Unpack[PrepareKeywords[S]],
    ) -> RunCore:
        """Validate a run's definition and build it, without starting it.

        ``options`` are :meth:`run_reactive`'s, but for ``journal`` and ``budget`` (they
        need the run to be run: use :meth:`run_reactive` or :meth:`Engine.start`). Modes of
        ``recording`` that look a recording up (``replay``, ``auto``) must be given already
        resolved (``await recording.resolve()``). ``observers`` see every signal as it is
        logged, ``extensions`` hook into the run (engine internals). Raises
        :class:`WorkflowDefinitionError` listing every problem (:class:`UnknownOptionError`
        for an option it does not take). Used by benchmarks and tools; most users never
        call it.
        """
        settings: RunSettings[S] = settings_for(PREPARE, agents, options)
        return self._build(
            settings,
            state,
            plan=plan_recording(settings.recording),
            observers=observers,
            extensions=extensions,
        )

    def _build(
        self,
        settings: RunSettings[Any],
        state: Any,
        *,
        plan: RecordingPlan | None,
        run_budget: RunBudget | None = None,
        observers: Sequence[Callable[[Signal], None]] = (),
        extensions: Sequence[RunExtension] = (),
    ) -> RunCore:
        """Validate ``settings`` and the agents against ``state``, and build the run: the
        harnesses chosen per agent are gated by ``run_budget`` and then wrapped by ``plan``
        (the resolved ``recording``, or the journal's). Every run is built here, once.

        Raises :class:`WorkflowDefinitionError` listing every problem found.
        """
        agents = settings.agents
        problems: list[str] = []
        if not isinstance(agents, Mapping) or not agents:
            raise WorkflowDefinitionError("agents must be a non-empty mapping of name -> agent")
        model = self.state_model
        try:
            snapshot = model.coerce(state)
        except WorkflowDefinitionError as exc:
            raise WorkflowDefinitionError(str(exc)) from None
        try:
            to_jsonable(snapshot)
        except TypeError as exc:
            problems.append(f"initial state has no JSON form: {exc}")
        keys = model.keys_of(snapshot)

        harnesses: dict[str, Harness | None] = {}
        missing_harness: list[str] = []
        first_bad_agent: str | None = None
        identity = tuple((name, id(spec)) for name, spec in agents.items())
        # These agents were found valid against states with these keys before: the checks
        # of one agent depend on nothing else (specs are frozen), so they are not redone.
        checked_before = (identity, keys) in self._valid_agents
        for name, spec in agents.items():
            if not checked_before:
                agent_problems: list[str] = []
                if not isinstance(name, str) or not _AGENT_NAME.fullmatch(name):
                    agent_problems.append(
                        f"name {name!r} is not valid (letters, digits, '_', '.', '-'; "
                        "starting with a letter or '_')"
                    )
                if not isinstance(spec, AgentSpec):
                    problems.append(
                        f"agents[{name!r}] is {type(spec).__name__}, not an agent made by "
                        "workflow.agent()"
                    )
                    continue
                if model.fields is None:
                    if spec.updates is not None and spec.updates not in keys:
                        agent_problems.append(
                            f"updates={spec.updates!r} is not a key of the initial state "
                            f"(keys: {', '.join(sorted(keys)) or 'none'})"
                        )
                    agent_problems.extend(self._template_problems(spec, keys))
                if agent_problems:
                    first_bad_agent = first_bad_agent or name
                    problems.extend(f"agent {name!r}: {p}" for p in agent_problems)
            chosen = spec.harness or settings.harness
            if run_budget is not None and isinstance(chosen, Harness):
                chosen = run_budget.gate(chosen)
            if plan is not None:
                chosen = plan.harness_for(name, chosen, spec.needs_harness)
            harnesses[name] = chosen
            if spec.needs_harness and chosen is None:
                missing_harness.append(name)
        if missing_harness:
            problems.append(
                f"no harness for agent(s) {', '.join(repr(n) for n in missing_harness)}: pass "
                "harness= to the run or to the agent"
            )
        if not checked_before and first_bad_agent is None and not problems:
            if len(self._valid_agents) >= _ROUTING_CACHE_SIZE:
                self._valid_agents.pop(next(iter(self._valid_agents)))
            # The specs stay alive with the entry, so their ids cannot be reused meanwhile.
            self._valid_agents[(identity, keys)] = tuple(agents.values())
        checked = settings.validate()
        problems.extend(checked.problems)
        if problems:
            raise _definition_error("run", problems, first_bad_agent)
        if plan is not None:
            plan.claim()
            extensions = (*extensions, *plan.extensions())

        preflighted: set[int] = set()
        for chosen in harnesses.values():
            if chosen is not None and id(chosen) not in preflighted:
                preflighted.add(id(chosen))
                chosen.preflight()

        external = checked.external
        options = RunOptions(
            agents=dict(agents),
            harnesses=harnesses,
            state=snapshot,
            routing=self._routing(
                agents,
                identity,
                checked.reducers,
                () if external is None else external.patterns,
            ),
            reducers=checked.reducers,
            end_when=settings.end_when,
            on_end=settings.on_end,
            restart=settings.restart,
            timeout=float(settings.timeout) if settings.timeout is not None else None,
            max_activations=settings.max_activations,
            reporters=tuple(settings.reporters),
            run_id=settings.run_id,
            mailbox_size=settings.mailbox_size,
            inbox_size=settings.inbox_size,
            observers=(*observers, *ambient_observers()),
            extensions=tuple(extensions),
            external=external,
        )
        return RunCore(model, options)

    def _routing(
        self,
        agents: Mapping[str, AgentSpec],
        identity: tuple[tuple[str, int], ...],
        reducers: Sequence[tuple[Pattern, Any]],
        external: Sequence[Pattern] = (),
    ) -> RoutingTable:
        """The routing table of ``agents`` (``identity``: their names and spec ids, the key
        the run's checks use too), cached per agent set, reducer and external patterns."""
        key = (
            identity,
            tuple(pattern for pattern, _ in reducers),
            tuple(external),
        )
        cached = self._routing_cache.get(key)
        if cached is not None:
            return cached[1]
        table = RoutingTable([spec.patterns for spec in agents.values()], [p for p, _ in reducers])
        # A new set of agents: its flow warnings are logged once, not once per run.
        log_findings(
            self.check(agents=agents, reducers=[p for p, _ in reducers], external=external),
            get_logger(),
        )
        if len(self._routing_cache) >= _ROUTING_CACHE_SIZE:
            self._routing_cache.pop(next(iter(self._routing_cache)))
        # Keep the specs alive with the entry so their ids cannot be reused while cached.
        self._routing_cache[key] = (tuple(agents.values()), table)
        return table

    async def run_reactive(
        self,
        *,
        agents: Mapping[str, AgentSpec],
        state: S | Mapping[str, Any],
        **options: Unpack[RunKeywords[S]],
    ) -> WorkflowResult[S]:
        """Run the workflow once, in the calling task, and return its result.

        ``agents`` maps names to agents; ``state`` is the initial state. The ``options`` are
        defined, with their defaults, in one place: ``openharness_actors._define._options``
        (``RunSettings``). In short: ``harness`` serves agents without their own.
        ``end_when(state)`` is checked after every state change and against the initial
        state; when it holds the run ends early (``on_end="cancel"`` cancels in-flight
        activations and freezes the state; ``"drain"`` lets them finish). Otherwise the run
        ends at quiescence. ``timeout`` is in seconds. ``reducers`` map a signal pattern to
        ``(state, signal) -> state``, applied by the state actor. ``reporters`` see every
        signal. ``restart`` makes the run a supervisor that restarts crashed agents
        (:class:`RestartPolicy`) instead of failing. ``max_activations`` guards against
        signal loops: at most this many activations per run (default 10,000), then
        :class:`ActivationLimitError`; ``None`` is unbounded. ``mailbox_size``/``inbox_size``
        bound agent mailboxes and the broker inbox. ``run_id`` names the run. ``recording``
        records the run into a store or replays a recording instead of calling harnesses: a
        :class:`~openharness_actors.Recording`, a mode string (``"live"``, ``"record"``,
        ``"replay"``, ``"auto"``) with the default store, or ``None`` (live); the result's
        ``recording_id`` names the recording written or replayed. ``journal``
        (a :class:`~openharness_actors.Journal`) writes the run durably so that
        :meth:`resume` can finish it after a crash; the journal is named after ``run_id``.
        ``budget`` (a :class:`~openharness_actors.Budget`) stops the run's model calls once
        spent and raises :class:`BudgetExceededError` (see ``_budget``).
        ``external`` declares the patterns of signals that may come from outside the run
        (``RunHandle.send``, ``resume(..., signals=...)``): a run with it that falls quiet
        while some agent listens on one of them logs ``workflow:waiting`` and waits (see
        "Human in the loop" in the README); ``on_wait="suspend"`` (needs ``journal=``) ends it
        instead with status ``"suspended"``, to be resumed with the signals later. Called
        in the calling task, nothing can send, so prefer ``on_wait="suspend"`` here and
        :meth:`Engine.start` for a run that waits.

        Raises :class:`WorkflowDefinitionError` before anything runs (its subclass
        :class:`UnknownOptionError`, also a ``TypeError``, for an option it does not take);
        :class:`WorkflowTimeoutError`, :class:`HarnessError`, :class:`UserCodeError`,
        :class:`ActivationLimitError`, :class:`ReplayDivergenceError` with ``partial`` when the
        run fails; :class:`StoreError` before anything runs when a recording to replay is
        missing. Host cancellation propagates after ``workflow:end`` is written.
        """
        settings: RunSettings[S] = settings_for(RUN, agents, options)
        return await self._execute(settings, state)

    async def _execute(
        self,
        settings: RunSettings[Any],
        state: Any,
        *,
        on_core: Callable[[RunCore], None] | None = None,
    ) -> WorkflowResult[S]:
        """Run with ``settings`` from ``state``: every run of this workflow goes through here
        (``run_reactive``, ``Engine.start``, a batch case). ``on_core`` is called with the
        built run before it starts (an engine's handle)."""
        run_budget = run_budget_for(settings.budget)
        if settings.journal is not None:
            journaled = run_journaled(self, settings, state, run_budget=run_budget, on_core=on_core)
            result: WorkflowResult[S] = await within_budget(run_budget, journaled)
            return result
        return await within_budget(
            run_budget, self._execute_live(settings, state, run_budget, on_core)
        )

    async def _execute_live(
        self,
        settings: RunSettings[Any],
        state: Any,
        run_budget: RunBudget | None,
        on_core: Callable[[RunCore], None] | None,
    ) -> WorkflowResult[S]:
        plan = await resolve_recording(settings.recording)
        core = self._build(settings, state, plan=plan, run_budget=run_budget)
        if on_core is not None:
            on_core(core)
        result: WorkflowResult[S] = await (plan.execute(core) if plan else core.execute())
        return result

    async def resume(
        self,
        run_id: str,
        *,
        journal: Journal,
        agents: Mapping[str, AgentSpec],
        force: bool = False,
        signals: Sequence[tuple[str, Mapping[str, Any] | None]] = (),
        **options: Unpack[ResumeKeywords[S]],
    ) -> WorkflowResult[S]:
        """Finish run ``run_id`` after a crash, kill or cancellation, from its ``journal``.

        The run starts again from its journaled initial state; every harness call an earlier
        attempt completed is answered from the journal (the model is not called again), the
        others are made live; the result is what an uninterrupted run would have given (see
        ``openharness_actors.journal._resume`` for the exact guarantee). Pass the same agents,
        harness and options as the original run (those of :meth:`run_reactive`, but for
        ``state``, ``recording`` and ``run_id``, which the journal has): a changed definition
        is refused unless ``force=True``. The resumed attempt is journaled too.

        A run that ended ``"suspended"`` (``on_wait="suspend"``) is resumed the same way,
        with its ``external`` patterns and the external ``signals`` (``(name, payload)``
        pairs) it waited for: they are sent once the journaled prefix is re-derived, and the
        run goes on (it may suspend again; with no signals it suspends again at once).

        Raises :class:`StoreError` when the run has no journal or another process is running
        or resuming it; :class:`WorkflowDefinitionError` when the workflow changed (or
        :class:`UnknownOptionError` for an option it does not take); then whatever the run
        itself raises.
        """
        settings: RunSettings[S] = settings_for(RESUME, agents, options, journal=journal)
        return await self._resume(run_id, settings, force=force, signals=signals)

    async def _resume(
        self,
        run_id: str,
        settings: RunSettings[Any],
        *,
        force: bool = False,
        signals: Sequence[tuple[str, Mapping[str, Any] | None]] = (),
    ) -> WorkflowResult[S]:
        """Resume run ``run_id`` with ``settings`` (which name its journal): ``resume`` and
        a batch case whose journal exists."""
        run_budget = run_budget_for(settings.budget)
        resuming = resume_run(
            self, run_id, settings, run_budget=run_budget, force=force, signals=signals
        )
        result: WorkflowResult[S] = await within_budget(run_budget, resuming)
        return result


def _definition_error(
    label: str, problems: list[str], agent: str | None
) -> WorkflowDefinitionError:
    if len(problems) == 1:
        message = f"{label}: {problems[0]}"
    else:
        message = f"{label} is invalid:\n" + "\n".join(f"  - {p}" for p in problems)
    return WorkflowDefinitionError(message, agent=agent, problems=problems)


@overload
def create_workflow(state_type: type[S]) -> Workflow[S]: ...
@overload
def create_workflow(state_type: Any) -> Workflow[Any]: ...
def create_workflow(state_type: Any) -> Workflow[Any]:
    """Create a workflow whose state is ``state_type``: a frozen attrs class (preferred), a
    frozen dataclass, a ``TypedDict`` or ``dict``.

    Raises :class:`WorkflowDefinitionError` for other (or mutable) types.
    """
    return Workflow(state_type)
