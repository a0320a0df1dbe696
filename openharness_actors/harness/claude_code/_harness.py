"""ClaudeCodeHarness: agents run through the Claude Code CLI (``claude-agent-sdk``), which
authenticates with the user's Claude login (a subscription) or any method the CLI knows.

It owns one activation's path through the CLI: the call's shape (system prompt, model, tools,
output schema), the limits (a concurrency slot and the shared :class:`CallLimiter` permit),
taking a process from the pool or starting one, the query, feeding the message stream to the
translator and events to ``emit``, cancellation (interrupt, then close) and the result. The
pieces live beside it: options (:mod:`._options`), translation (:mod:`._events`), the tool
bridge (:mod:`._bridge`), error mapping (:mod:`._errors`), processes (:mod:`._sessions`),
the CLI and the lazy SDK import (:mod:`._cli`). It never touches workflow state and never
logs prompts, replies or credentials.
"""

from __future__ import annotations

import json
import os
from types import TracebackType
from typing import Any

import attrs
import trio

from ..._errors import HarnessError, WorkflowDefinitionError
from ..._logging import get_logger
from .._schema import json_schema
from .._tools import ToolSpec, tool_spec
from ..limits import CallLimiter, current_call_limiter, limited_call
from ..protocol import EventSink, HarnessRequest, HarnessResult
from ._bridge import ToolBridge
from ._cli import INSTALL_HINT, find_cli, load_sdk, sdk_available
from ._errors import error_for_exception, error_for_outcome
from ._events import Outcome, Translator
from ._options import CallShape, Settings, api_keys, build_options
from ._sessions import Session, SessionPool

__all__ = ["ClaudeCodeHarness", "ClaudeCodeHarnessStatistics"]


@attrs.frozen
class ClaudeCodeHarnessStatistics:
    """A snapshot: calls started, in flight now and at most at once, tasks waiting for a slot,
    CLI processes started, calls served by a reused process, and idle processes now."""

    calls: int
    in_flight: int
    peak_in_flight: int
    waiting: int
    max_concurrency: int | None
    processes_started: int
    processes_reused: int
    idle_processes: int


class ClaudeCodeHarness:
    """Runs agents through Claude Code: the ``claude`` CLI the ``claude-agent-sdk`` package
    bundles (``pip install 'openharness-actors[claude-code]'``), signed in with your Claude
    login, so no API key is needed. With ``ANTHROPIC_API_KEY`` in its environment the CLI uses
    the key instead (and ``ANTHROPIC_BASE_URL`` points it at another Messages API).

    Request: the rendered prompt is the query; the agent's rendered ``system`` is the system
    prompt (the SDK puts one line of its own before it); ``request.model``, else ``model``,
    else the CLI's default model. ``env`` adds environment variables for the CLI, ``cwd`` is
    its working directory (default: this process's), ``max_turns`` bounds the model turns of
    one activation (tool turns included), ``cli_path`` picks another ``claude`` executable.
    ``options`` (a ``ClaudeAgentOptions``) is the starting point for everything else; without
    it the CLI gets no built-in tools (Bash, Read, Edit...: an agent gets exactly its own
    callables) and reads no settings files (``setting_sources=[]``). Sessions are not written
    under ``~/.claude`` (``--no-session-persistence``) unless ``persist_sessions``.

    Events: ``text:delta``/``thinking:delta`` as the model streams, ``text:complete``/
    ``thinking:complete`` per finished block, ``tool:call`` and ``tool:result``. The result's
    ``output`` is the final reply; ``usage`` and ``cost_usd`` are the CLI's figures for the
    activation (all its turns).

    Tools: the agent's Python callables (see :mod:`openharness_actors.harness._tools`) are
    served by an in-process MCP server and allowed without a prompt; the model calls them
    ``mcp__openharness__<name>``, the signals use the plain name. Structured output: an agent
    with ``output=T`` gets the CLI's structured output (``output_format`` with the JSON Schema
    of ``T``), and the result's ``output`` is that value as JSON.

    Processes: starting the CLI costs about 0.4 s or more and 200 MB. With ``reuse`` (the
    default) a process that finished a call is kept, for the trio run that started it, and
    serves the next call of the same agent with the same system prompt, model, tools and
    output type, after ``/clear`` (a fresh conversation, no API call; the next prompt then
    carries Claude Code's one-line note that ``/clear`` ran). A process whose call failed or
    was cancelled is closed, never reused. Idle processes close when the trio run ends, or
    at :meth:`aclose` (``async with harness:``). ``reuse=False``: one process per call.

    Limits, shared by every run using this object: ``max_concurrency`` calls (processes) at
    once; each call also holds a permit of ``limiter``, or else of the ambient limiter that
    ``run_batch(limits=...)`` installs (tokens estimated at four characters each, settled
    with the reported usage).

    Errors: the CLI retries rate limits, overload and server errors itself; what remains
    raises :class:`HarnessError` naming the agent, with ``code`` (the HTTP status such as
    ``"400"``, or the CLI's reason such as ``"error_max_turns"``, ``"cli_not_found"``) and
    ``retryable``, the SDK exception as its cause; no credential appears in it. Cancellation
    interrupts the turn, then closes the process (within a few seconds at most).
    """

    name = "claude-code"

    def __init__(
        self,
        model: str | None = None,
        *,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        max_turns: int | None = None,
        cli_path: str | os.PathLike[str] | None = None,
        options: Any = None,
        persist_sessions: bool = False,
        reuse: bool = True,
        max_concurrency: int | None = 8,
        limiter: CallLimiter | None = None,
    ) -> None:
        if max_turns is not None and max_turns < 1:
            raise ValueError(f"max_turns must be >= 1 or None, not {max_turns!r}")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1 or None, not {max_concurrency!r}")
        if env is not None and not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items()
        ):
            raise ValueError("env must map str to str")
        self._settings = Settings(
            model=model,
            env=dict(env or {}),
            cwd=os.fspath(cwd) if cwd is not None else None,
            max_turns=max_turns,
            cli_path=os.fspath(cli_path) if cli_path is not None else None,
            options=options,
            persist_sessions=persist_sessions,
        )
        self.model = model
        self.reuse = reuse
        self.max_concurrency = max_concurrency
        self._limiter = limiter
        self._slots = trio.CapacityLimiter(max_concurrency) if max_concurrency else None
        self._pool = SessionPool()
        self._specs: dict[Any, ToolSpec] = {}
        self._schemas: dict[Any, str] = {}
        self._calls = self._in_flight = self._peak = 0

    def __repr__(self) -> str:
        return (
            f"ClaudeCodeHarness(model={self.model!r}, reuse={self.reuse!r}, "
            f"max_concurrency={self.max_concurrency!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for transient in ("_slots", "_pool"):
            del state[transient]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        slots = self.max_concurrency
        self._slots = trio.CapacityLimiter(slots) if slots else None
        self._pool = SessionPool()
        self._calls = self._in_flight = self._peak = 0

    def preflight(self) -> None:
        """Raise :class:`WorkflowDefinitionError` without the SDK or without a CLI to run."""
        if not sdk_available():
            raise WorkflowDefinitionError(
                f"ClaudeCodeHarness needs the claude-agent-sdk package: {INSTALL_HINT}"
            )
        if find_cli(self._settings.cli_path) is None:
            where = self._settings.cli_path or "bundled with claude-agent-sdk or on PATH"
            raise WorkflowDefinitionError(f"ClaudeCodeHarness found no claude CLI ({where})")

    def statistics(self) -> ClaudeCodeHarnessStatistics:
        """Traffic figures since the harness was created."""
        return ClaudeCodeHarnessStatistics(
            calls=self._calls,
            in_flight=self._in_flight,
            peak_in_flight=self._peak,
            waiting=self._slots.statistics().tasks_waiting if self._slots is not None else 0,
            max_concurrency=self.max_concurrency,
            processes_started=self._pool.started,
            processes_reused=self._pool.reused,
            idle_processes=self._pool.idle_count(),
        )

    async def aclose(self) -> None:
        """Close the idle CLI processes now."""
        await self._pool.aclose()

    async def __aenter__(self) -> ClaudeCodeHarness:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def run(self, request: HarnessRequest, emit: EventSink) -> HarnessResult:
        """One activation through the CLI; see the class docstring.

        Raises :class:`HarnessError` when the call fails, a tool or the output type has no
        JSON schema, or the SDK is missing.
        """
        shape, specs = self._shape(request)
        estimate = (len(request.prompt) + len(request.system or "")) // 4 + 1
        async with limited_call(self._limiter or current_call_limiter(), estimate) as permit:
            if self._slots is not None:
                await self._slots.acquire()
            self._calls += 1
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            try:
                outcome = await self._call(request, shape, specs, emit)
            finally:
                self._in_flight -= 1
                if self._slots is not None:
                    self._slots.release()
            usage = outcome.usage
            permit.used_tokens = (
                usage.input_tokens + usage.cache_creation_input_tokens + usage.output_tokens
            )
        if outcome.is_error:
            raise error_for_outcome(request.agent, outcome, self._redact)
        output = outcome.text
        if shape.output_schema is not None and outcome.structured is not None:
            output = json.dumps(outcome.structured, ensure_ascii=False)
        return HarnessResult(
            output=output,
            usage=outcome.usage,
            stop_reason=outcome.stop_reason,
            model=outcome.model or shape.model or self.model,
            cost_usd=outcome.cost_usd,
        )

    async def _call(
        self,
        request: HarnessRequest,
        shape: CallShape,
        specs: dict[str, ToolSpec],
        emit: EventSink,
    ) -> Outcome:
        """Query a process of ``shape`` and translate its messages; the process goes back to
        the pool only after a clean, successful call."""
        log = get_logger(run_id=request.run_id, agent=request.agent, harness=self.name)
        session = await self._session(request.agent, shape, specs)
        keep = False
        finished = False
        try:
            translator = Translator(session.bridge)

            async def on_message(message: Any) -> None:
                for event in translator.feed(message):
                    await emit(event)

            with session.bridge.attach(emit) if session.bridge is not None else _nothing():
                await session.exchange(request.prompt, on_message)
            finished = True
            outcome = translator.outcome
            if outcome is None:
                raise HarnessError(
                    f"agent {request.agent!r}: the Claude Code CLI ended the call without a result",
                    agent=request.agent,
                    code="incomplete_result",
                    retryable=True,
                )
            session.calls += 1
            keep = self.reuse and not outcome.is_error
            if outcome.is_error:
                log.warning("claude_code.error_result", subtype=outcome.subtype)
            return outcome
        except Exception as exc:
            mapped = error_for_exception(request.agent, exc, self._redact)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            if keep:
                self._pool.give_back(session)
            else:
                await session.close(interrupt=not finished)

    async def _session(self, agent: str, shape: CallShape, specs: dict[str, ToolSpec]) -> Session:
        """An idle process of ``shape`` with a fresh conversation, or a new one."""
        while self.reuse and (session := self._pool.take(shape)) is not None:
            try:
                await session.reset()
                return session
            except Exception:
                await session.close(interrupt=True)
            except BaseException:
                await session.close(interrupt=True)
                raise
        try:
            sdk = load_sdk()
        except ImportError as exc:
            raise HarnessError(f"agent {agent!r}: {exc}", agent=agent, code="sdk_missing") from exc
        bridge = ToolBridge(specs) if specs else None
        options = build_options(
            sdk,
            self._settings,
            shape,
            bridge.server(sdk) if bridge is not None else None,
            list(specs),
        )
        try:
            session = await Session.start(sdk, shape, options, bridge)
        except Exception as exc:
            mapped = error_for_exception(agent, exc, self._redact)
            if mapped is None:
                raise
            raise mapped from exc
        self._pool.started += 1
        return session

    def _shape(self, request: HarnessRequest) -> tuple[CallShape, dict[str, ToolSpec]]:
        agent = request.agent
        specs: dict[str, ToolSpec] = {}
        for fn in request.tools:
            spec = self._specs.get(fn)
            if spec is None:
                try:
                    spec = tool_spec(fn)
                except TypeError as exc:
                    raise HarnessError(
                        f"agent {agent!r}: {exc}", agent=agent, code="invalid_tool"
                    ) from exc
                self._specs[fn] = spec
            if spec.name in specs:
                raise HarnessError(
                    f"agent {agent!r}: two tools are named {spec.name!r}",
                    agent=agent,
                    code="invalid_tool",
                )
            specs[spec.name] = spec
        schema: str | None = None
        output = request.output
        if output is not None and output is not str:
            schema = self._schemas.get(output)
            if schema is None:
                try:
                    schema = json.dumps(json_schema(output), sort_keys=True)
                except TypeError as exc:
                    raise HarnessError(
                        f"agent {agent!r}: output type has no JSON schema: {exc}",
                        agent=agent,
                        code="invalid_output_type",
                    ) from exc
                self._schemas[output] = schema
        shape = CallShape(
            agent=agent,
            system=request.system,
            model=request.model or self.model,
            tools=tuple(request.tools),
            output_schema=schema,
        )
        return shape, specs

    def _redact(self, text: str) -> str:
        for key in api_keys(self._settings):
            text = text.replace(key, "[redacted]")
        return text


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
