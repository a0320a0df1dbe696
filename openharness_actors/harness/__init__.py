"""Harnesses: the seam between agents and models. See :mod:`.protocol`.

``AnthropicHarness`` (and its alias ``ClaudeHarness``) is imported on first access, so that
importing the package does not import the ``anthropic`` SDK until a program uses it.
"""

from typing import TYPE_CHECKING, Any

from .function import FunctionHarness as FunctionHarness
from .protocol import (
    EventSink as EventSink,
    Harness as Harness,
    HarnessEvent as HarnessEvent,
    HarnessRequest as HarnessRequest,
    HarnessResult as HarnessResult,
    HarnessRetry as HarnessRetry,
    TextComplete as TextComplete,
    TextDelta as TextDelta,
    ThinkingComplete as ThinkingComplete,
    ThinkingDelta as ThinkingDelta,
    ToolCall as ToolCall,
    ToolResult as ToolResult,
)
from .scripted import ScriptedHarness as ScriptedHarness

if TYPE_CHECKING:
    from .anthropic import AnthropicHarness as AnthropicHarness
    from .anthropic import ClaudeHarness as ClaudeHarness

__all__ = [
    "AnthropicHarness",
    "ClaudeHarness",
    "EventSink",
    "FunctionHarness",
    "Harness",
    "HarnessEvent",
    "HarnessRequest",
    "HarnessResult",
    "HarnessRetry",
    "ScriptedHarness",
    "TextComplete",
    "TextDelta",
    "ThinkingComplete",
    "ThinkingDelta",
    "ToolCall",
    "ToolResult",
]


def __getattr__(name: str) -> Any:
    if name in ("AnthropicHarness", "ClaudeHarness"):
        from . import anthropic

        return getattr(anthropic, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
