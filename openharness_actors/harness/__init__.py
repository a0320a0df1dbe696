"""Harnesses: the seam between agents and models. See :mod:`.protocol`.

``AnthropicHarness`` (and its alias ``ClaudeHarness``), ``AnthropicBatchHarness`` and
``ClaudeCodeHarness`` are imported on first access, so that importing the package does not
import the ``anthropic`` SDK until a program uses it (``claude_agent_sdk`` waits for a
``ClaudeCodeHarness``'s first call).
"""

import typing as _typing

from .._lazy import lazy_exports_from as _lazy_exports_from
from .choose import choose_harness as choose_harness
from .function import FunctionHarness as FunctionHarness
from .limits import (
    CallLimiter as CallLimiter,
    CallLimits as CallLimits,
    CallPermit as CallPermit,
    LocalCallLimiter as LocalCallLimiter,
)
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

if _typing.TYPE_CHECKING:
    from .anthropic import AnthropicHarness as AnthropicHarness, ClaudeHarness as ClaudeHarness
    from .anthropic_batch import AnthropicBatchHarness as AnthropicBatchHarness
    from .claude_code import ClaudeCodeHarness as ClaudeCodeHarness

__all__ = [
    "AnthropicBatchHarness",
    "AnthropicHarness",
    "CallLimiter",
    "CallLimits",
    "CallPermit",
    "ClaudeCodeHarness",
    "ClaudeHarness",
    "EventSink",
    "FunctionHarness",
    "Harness",
    "HarnessEvent",
    "HarnessRequest",
    "HarnessResult",
    "HarnessRetry",
    "LocalCallLimiter",
    "ScriptedHarness",
    "TextComplete",
    "TextDelta",
    "ThinkingComplete",
    "ThinkingDelta",
    "ToolCall",
    "ToolResult",
    "choose_harness",
]


__getattr__, __dir__ = _lazy_exports_from(
    __name__,
    globals(),
    {
        ".anthropic": ("AnthropicHarness", "ClaudeHarness"),
        ".anthropic_batch": ("AnthropicBatchHarness",),
        ".claude_code": ("ClaudeCodeHarness",),
    },
)

from .._public import publish as _publish  # noqa: E402

_publish(globals(), __all__, __name__)
