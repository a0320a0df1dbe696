"""Harnesses: the seam between agents and models. See :mod:`.protocol`."""

from .function import FunctionHarness as FunctionHarness
from .protocol import (
    EventSink as EventSink,
)
from .protocol import (
    Harness as Harness,
)
from .protocol import (
    HarnessEvent as HarnessEvent,
)
from .protocol import (
    HarnessRequest as HarnessRequest,
)
from .protocol import (
    HarnessResult as HarnessResult,
)
from .protocol import (
    HarnessRetry as HarnessRetry,
)
from .protocol import (
    TextComplete as TextComplete,
)
from .protocol import (
    TextDelta as TextDelta,
)
from .protocol import (
    ThinkingComplete as ThinkingComplete,
)
from .protocol import (
    ThinkingDelta as ThinkingDelta,
)
from .protocol import (
    ToolCall as ToolCall,
)
from .protocol import (
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
