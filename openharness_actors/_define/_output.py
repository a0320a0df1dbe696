"""Structured output: turning a reply's text into the agent's ``output`` type with cattrs."""

from __future__ import annotations

import json
import re
from typing import Any

import cattrs

from .._errors import OutputParseError
from .._json import converter, to_jsonable

__all__ = ["emit_payload", "parse_output"]

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n(.*?)\n?```\s*$", re.DOTALL)
_RAW_LIMIT = 500


def parse_output(text: str, output_type: Any, *, agent: str) -> Any:
    """Parse ``text`` as JSON (a surrounding Markdown code fence is allowed) and structure it
    into ``output_type``. ``str`` is returned as is.

    Raises :class:`OutputParseError` showing the raw text and every field that does not fit.
    """
    if output_type is str:
        return text
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise OutputParseError(
            f"agent {agent!r}: reply is not JSON for {_type_name(output_type)} ({exc}); "
            f"raw reply: {_clip(text)}",
            raw=text,
            agent=agent,
        ) from exc
    try:
        return converter.structure(data, output_type)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError, RecursionError) as exc:
        details = (
            "; ".join(cattrs.transform_error(exc))
            if isinstance(exc, cattrs.BaseValidationError)
            else repr(exc)
        )
        raise OutputParseError(
            f"agent {agent!r}: reply does not fit {_type_name(output_type)}: {details}; "
            f"raw reply: {_clip(text)}",
            raw=text,
            agent=agent,
        ) from exc


def emit_payload(agent: str, output: Any, structured: bool) -> dict[str, Any]:
    """Payload of a declared emit: the structured output when it is an object, else
    ``{"agent": ..., "output": ...}``."""
    data = to_jsonable(output)
    if structured and isinstance(data, dict):
        return data
    return {"agent": agent, "output": data}


def _type_name(output_type: Any) -> str:
    return getattr(output_type, "__name__", repr(output_type))


def _clip(text: str) -> str:
    return repr(text if len(text) <= _RAW_LIMIT else text[:_RAW_LIMIT] + "…")
