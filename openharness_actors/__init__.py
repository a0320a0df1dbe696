"""openharness_actors: reactive, signal-driven multi-agent LLM workflows on trio actors.

Agents declare the signals that wake them (``activate_on``), the signals they emit and the
state key they update; the workflow emerges from the signal flow. See ``README.md``.
"""

from ._agent import AgentContext as AgentContext
from ._agent import AgentSpec as AgentSpec
from ._engine import (
    Engine as Engine,
)
from ._engine import (
    EngineStatistics as EngineStatistics,
)
from ._engine import (
    RunHandle as RunHandle,
)
from ._engine import (
    open_engine as open_engine,
)
from ._errors import (
    ActivationLimitError as ActivationLimitError,
)
from ._errors import (
    ActivationTimeoutError as ActivationTimeoutError,
)
from ._errors import (
    HarnessError as HarnessError,
)
from ._errors import (
    OpenHarnessError as OpenHarnessError,
)
from ._errors import (
    OutputParseError as OutputParseError,
)
from ._errors import (
    ReplayDivergenceError as ReplayDivergenceError,
)
from ._errors import (
    RestartIntensityError as RestartIntensityError,
)
from ._errors import (
    StoreError as StoreError,
)
from ._errors import (
    TemplateError as TemplateError,
)
from ._errors import (
    UserCodeError as UserCodeError,
)
from ._errors import (
    WorkflowCancelledError as WorkflowCancelledError,
)
from ._errors import (
    WorkflowDefinitionError as WorkflowDefinitionError,
)
from ._errors import (
    WorkflowTimeoutError as WorkflowTimeoutError,
)
from ._log import LogCursor as LogCursor
from ._pattern import Pattern as Pattern
from ._pattern import compile_pattern as compile_pattern
from ._pattern import matches as matches
from ._policy import RetryPolicy as RetryPolicy
from ._reporting import Reporter as Reporter
from ._result import (
    AgentMetrics as AgentMetrics,
)
from ._result import (
    Metrics as Metrics,
)
from ._result import (
    WorkflowResult as WorkflowResult,
)
from ._signal import Signal as Signal
from ._signal import SignalSource as SignalSource
from ._state import FrozenState as FrozenState
from ._supervision import RestartPolicy as RestartPolicy
from ._usage import Usage as Usage
from ._workflow import Workflow as Workflow
from ._workflow import create_workflow as create_workflow
from .harness import (
    FunctionHarness as FunctionHarness,
)
from .harness import (
    Harness as Harness,
)
from .harness import (
    HarnessRequest as HarnessRequest,
)
from .harness import (
    HarnessResult as HarnessResult,
)
from .harness import (
    ScriptedHarness as ScriptedHarness,
)

__version__ = "0.1.0"

__all__ = [
    "ActivationLimitError",
    "ActivationTimeoutError",
    "AgentContext",
    "AgentMetrics",
    "AgentSpec",
    "Engine",
    "EngineStatistics",
    "FrozenState",
    "FunctionHarness",
    "Harness",
    "HarnessError",
    "HarnessRequest",
    "HarnessResult",
    "LogCursor",
    "Metrics",
    "OpenHarnessError",
    "OutputParseError",
    "Pattern",
    "ReplayDivergenceError",
    "Reporter",
    "RestartIntensityError",
    "RestartPolicy",
    "RetryPolicy",
    "RunHandle",
    "ScriptedHarness",
    "Signal",
    "SignalSource",
    "StoreError",
    "TemplateError",
    "Usage",
    "UserCodeError",
    "Workflow",
    "WorkflowCancelledError",
    "WorkflowDefinitionError",
    "WorkflowResult",
    "WorkflowTimeoutError",
    "compile_pattern",
    "create_workflow",
    "matches",
    "open_engine",
]
