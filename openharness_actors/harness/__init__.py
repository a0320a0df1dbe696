"""Harnesses: the seam between agents and models. See :mod:`.protocol`."""

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

__all__ = [
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
