"""Request building of the Anthropic harness: one activation's Messages API parameters
(model, system prompt with the structured-output instructions, sampling, thinking, tool
definitions, prompt-cache marks) and the tools by name. No I/O: it never sends a request,
runs a tool, retries or reads a reply; the caches it fills belong to the harness object."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from ..._errors import HarnessError
from .._caching import with_cache_control
from .._schema import json_schema
from .._tools import ToolSpec, tool_spec
from ..protocol import HarnessRequest


def build_params(
    request: HarnessRequest,
    tools: dict[str, ToolSpec],
    system: str | None,
    *,
    model: str,
    max_tokens: int,
    temperature: float | None,
    thinking: int | Literal["adaptive"] | None,
    cache: bool,
) -> dict[str, Any]:
    """The parameters every model turn of ``request`` shares (all but ``messages``);
    ``system`` is the final system prompt (see :func:`system_for`)."""
    params: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if system:
        params["system"] = system
    if temperature is not None:
        # Recent SDKs no longer take sampling parameters as arguments; the API still does.
        params["extra_body"] = {"temperature": temperature}
    if thinking == "adaptive":
        params["thinking"] = {"type": "adaptive"}
    elif thinking is not None:
        params["thinking"] = {"type": "enabled", "budget_tokens": thinking}
    if tools:
        params["tools"] = [spec.definition() for spec in tools.values()]
    if cache:
        params = with_cache_control(params)
    return params


def tools_for(
    request: HarnessRequest, specs: dict[Callable[..., Any], ToolSpec]
) -> dict[str, ToolSpec]:
    """The agent's tools by name, their specs cached in ``specs``.

    Raises :class:`HarnessError` (code ``"invalid_tool"``) for a callable with no tool
    schema and for two tools of one name.
    """
    tools: dict[str, ToolSpec] = {}
    for fn in request.tools:
        spec = specs.get(fn)
        if spec is None:
            try:
                spec = tool_spec(fn)
            except TypeError as exc:
                raise HarnessError(
                    f"agent {request.agent!r}: {exc}", agent=request.agent, code="invalid_tool"
                ) from exc
            specs[fn] = spec
        if spec.name in tools:
            raise HarnessError(
                f"agent {request.agent!r}: two tools are named {spec.name!r}",
                agent=request.agent,
                code="invalid_tool",
            )
        tools[spec.name] = spec
    return tools


def system_for(
    request: HarnessRequest, default: str | None, instructions_cache: dict[Any, str]
) -> str | None:
    """The system prompt: the request's (else ``default``), followed by the JSON Schema
    instructions when the agent's output is a type other than ``str`` (cached per type in
    ``instructions_cache``).

    Raises :class:`HarnessError` (code ``"invalid_output_type"``) for an output type with no
    JSON schema.
    """
    system = request.system if request.system is not None else default
    output = request.output
    if output is None or output is str:
        return system
    instructions = instructions_cache.get(output)
    if instructions is None:
        try:
            schema = json_schema(output)
        except TypeError as exc:
            raise HarnessError(
                f"agent {request.agent!r}: output type has no JSON schema: {exc}",
                agent=request.agent,
                code="invalid_output_type",
            ) from exc
        instructions = (
            "Reply with one JSON value that matches the JSON Schema below, and nothing else: "
            "no explanation and no Markdown code fence.\n<json_schema>\n"
            f"{json.dumps(schema, ensure_ascii=False)}\n</json_schema>"
        )
        instructions_cache[output] = instructions
    return f"{system}\n\n{instructions}" if system else instructions
