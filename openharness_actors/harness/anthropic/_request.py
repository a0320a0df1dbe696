"""Request-side helpers of the Anthropic harness: structured-output checks and the repair
prompt, and token estimates for the rate limits. No I/O."""

from __future__ import annotations

import json
from typing import Any

from ..._core._usage import Usage
from ..._define._output import parse_output
from ..._errors import OutputParseError
from ..protocol import HarnessRequest


def _output_problem(text: str, request: HarnessRequest) -> str | None:
    """Why ``text`` does not fit the agent's output type, or ``None`` when it does (or when
    the agent wants plain text)."""
    if request.output is None or request.output is str:
        return None
    try:
        parse_output(text, request.output, agent=request.agent)
    except OutputParseError as exc:
        return str(exc)
    return None


def _repair_prompt(problem: str) -> str:
    return (
        f"That reply could not be used: {problem}\n"
        "Reply again with only the JSON value that matches the JSON Schema in the system prompt."
    )


def _used_tokens(usage: Usage) -> int:
    return usage.input_tokens + usage.cache_creation_input_tokens + usage.output_tokens


def _estimate_tokens(params: dict[str, Any]) -> int:
    """A rough count of a request's input tokens (four characters each)."""
    size = len(json.dumps(params.get("messages"), ensure_ascii=False))
    system = params.get("system") or ""
    size += len(system if isinstance(system, str) else json.dumps(system))
    size += len(json.dumps(params.get("tools") or []))
    return size // 4 + 1
