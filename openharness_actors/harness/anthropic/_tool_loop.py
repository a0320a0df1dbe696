"""The activation loop of the Anthropic harness: model turns until a final reply. A turn
that asks for tools runs them (one turn's tools concurrently) and sends their results back,
at most ``max_tool_turns`` times; a final reply that does not fit the agent's output type
gets one repair turn; usage and cost are summed over the turns.

It owns the conversation (the ``messages`` list) and the tool calls. It never makes an HTTP
request, retries, waits for a limit or builds the shared parameters: a model turn is the
``turn`` function it is given (the harness's, retried within its limits).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import trio

from ..._core._usage import Usage
from ..._errors import HarnessError
from .._messages_stream import ToolUse, TurnAssembler
from .._tools import ToolOutcome, ToolSpec
from ..protocol import EventSink, HarnessRequest, HarnessResult, ToolResult
from ._request import _output_problem, _repair_prompt


async def run_activation(
    request: HarnessRequest,
    params: dict[str, Any],
    tools: dict[str, ToolSpec],
    emit: EventSink,
    *,
    turn: Callable[[dict[str, Any]], Awaitable[TurnAssembler]],
    cost: Callable[[str, Usage], float | None],
    max_tool_turns: int,
    repair_output: bool,
    log: Any,
) -> HarnessResult:
    """Run ``request`` to its final reply; ``turn(params)`` makes one model turn.

    The result's ``usage`` sums every turn and ``cost_usd`` their ``cost(model, usage)``
    (``None`` as soon as one turn has no price). Raises :class:`HarnessError` (code
    ``"max_tool_turns"``) when the model asks for tools after ``max_tool_turns`` tool turns;
    whatever ``turn`` or a tool's emit raises propagates.
    """
    agent = request.agent
    model = params["model"]
    messages: list[dict[str, Any]] = [{"role": "user", "content": request.prompt}]
    usage = Usage()
    total: float | None = 0.0
    tool_turns = 0
    repaired = False
    while True:
        reply = await turn({**params, "messages": messages})
        usage = usage + reply.usage
        turn_cost = cost(reply.model or model, reply.usage)
        total = None if total is None or turn_cost is None else total + turn_cost
        content = reply.content()
        if content:
            messages.append({"role": "assistant", "content": content})
        uses = reply.tool_uses
        if reply.stop_reason == "tool_use" and uses:
            if tool_turns >= max_tool_turns:
                raise HarnessError(
                    f"agent {agent!r}: the model still asked for tools after "
                    f"{max_tool_turns} tool turns (max_tool_turns)",
                    agent=agent,
                    code="max_tool_turns",
                )
            tool_turns += 1
            messages.append({"role": "user", "content": await run_tools(uses, tools, emit, log)})
            continue
        problem = None if repaired or not repair_output else _output_problem(reply.text, request)
        if problem is not None:
            repaired = True
            log.debug("anthropic.output_repair", problem=problem[:200])
            messages.append({"role": "user", "content": _repair_prompt(problem)})
            continue
        return HarnessResult(
            output=reply.text,
            usage=usage,
            stop_reason=reply.stop_reason,
            model=reply.model or model,
            cost_usd=total,
        )


async def run_tools(
    uses: Sequence[ToolUse], tools: dict[str, ToolSpec], emit: EventSink, log: Any
) -> list[dict[str, Any]]:
    """Run one turn's tool calls (concurrently) and return their ``tool_result`` blocks, in
    the order of ``uses``. A tool's exception, an unknown tool and malformed input become
    ``is_error`` results (and ``tool:result`` events), not exceptions."""
    results: list[dict[str, Any]] = [{} for _ in uses]

    async def run_one(index: int, use: ToolUse) -> None:
        spec = tools.get(use.name)
        if use.error is not None:
            outcome = ToolOutcome(error=use.error)
        elif spec is None:
            outcome = ToolOutcome(error=f"there is no tool named {use.name!r}")
        else:
            outcome = await spec.call(use.input)
        if outcome.error is not None:
            log.debug("anthropic.tool_error", tool=use.name, error=outcome.error[:200])
        await emit(ToolResult(use.id, use.name, outcome.result, outcome.error))
        block: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": use.id,
            "content": outcome.content,
        }
        if outcome.error is not None:
            block["is_error"] = True
        results[index] = block

    if len(uses) == 1:
        await run_one(0, uses[0])
    else:
        async with trio.open_nursery() as nursery:
            for index, use in enumerate(uses):
                nursery.start_soon(run_one, index, use)
    return results
