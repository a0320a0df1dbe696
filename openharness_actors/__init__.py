"""openharness_actors: reactive, signal-driven multi-agent LLM workflows on trio actors.

Agents declare the signals that wake them (``activate_on``), the signals they emit and the
state key they update; the workflow emerges from the signal flow. See ``README.md``.

``AnthropicHarness``/``ClaudeHarness`` are imported on first access, so that importing the
package does not import the ``anthropic`` SDK until a program uses it.
"""

import typing as _typing

from ._agent import AgentContext as AgentContext, AgentSpec as AgentSpec
from ._engine import (
    Engine as Engine,
    EngineStatistics as EngineStatistics,
    RunHandle as RunHandle,
    open_engine as open_engine,
)
from ._errors import (
    ActivationLimitError as ActivationLimitError,
    ActivationTimeoutError as ActivationTimeoutError,
    HarnessError as HarnessError,
    OpenHarnessError as OpenHarnessError,
    OutputParseError as OutputParseError,
    ReplayDivergenceError as ReplayDivergenceError,
    RestartIntensityError as RestartIntensityError,
    StoreError as StoreError,
    TemplateError as TemplateError,
    UserCodeError as UserCodeError,
    WorkerLostError as WorkerLostError,
    WorkflowCancelledError as WorkflowCancelledError,
    WorkflowDefinitionError as WorkflowDefinitionError,
    WorkflowTimeoutError as WorkflowTimeoutError,
)
from ._lazy import lazy_exports as _lazy_exports
from ._log import LogCursor as LogCursor
from ._log_setup import configure_logging as configure_logging
from ._pattern import Pattern as Pattern, compile_pattern as compile_pattern, matches as matches
from ._policy import RetryPolicy as RetryPolicy
from ._reporting import Reporter as Reporter
from ._result import (
    AgentMetrics as AgentMetrics,
    Metrics as Metrics,
    WorkflowResult as WorkflowResult,
)
from ._signal import Signal as Signal, SignalSource as SignalSource
from ._state import FrozenState as FrozenState
from ._supervision import RestartPolicy as RestartPolicy
from ._usage import Usage as Usage
from ._workflow import Workflow as Workflow, create_workflow as create_workflow
from .batch import (
    BatchMetrics as BatchMetrics,
    BatchProgress as BatchProgress,
    BatchResult as BatchResult,
    CaseResult as CaseResult,
    ProgressPrinter as ProgressPrinter,
    RayOptions as RayOptions,
    WorkerIncident as WorkerIncident,
    open_ray_pool as open_ray_pool,
    run_batch as run_batch,
)
from .harness import (
    CallLimiter as CallLimiter,
    CallLimits as CallLimits,
    FunctionHarness as FunctionHarness,
    Harness as Harness,
    HarnessRequest as HarnessRequest,
    HarnessResult as HarnessResult,
    LocalCallLimiter as LocalCallLimiter,
    ScriptedHarness as ScriptedHarness,
)
from .journal import Journal as Journal
from .recording import (
    JsonlSignalStore as JsonlSignalStore,
    MemorySignalStore as MemorySignalStore,
    Player as Player,
    PlayerSnapshot as PlayerSnapshot,
    Recording as Recording,
    RecordingData as RecordingData,
    RecordingInfo as RecordingInfo,
    SignalStore as SignalStore,
    SqliteSignalStore as SqliteSignalStore,
)
from .reporters import (
    AgentFigures as AgentFigures,
    ConsoleReporter as ConsoleReporter,
    LiveReporter as LiveReporter,
    LogReporter as LogReporter,
    MetricsReporter as MetricsReporter,
    MetricsSnapshot as MetricsSnapshot,
)

if _typing.TYPE_CHECKING:
    from .harness.anthropic import (
        AnthropicHarness as AnthropicHarness,
        ClaudeHarness as ClaudeHarness,
    )

__version__ = "0.1.0"

__all__ = [
    "ActivationLimitError",
    "ActivationTimeoutError",
    "AgentContext",
    "AgentFigures",
    "AgentMetrics",
    "AgentSpec",
    "AnthropicHarness",
    "BatchMetrics",
    "BatchProgress",
    "BatchResult",
    "CallLimiter",
    "CallLimits",
    "CaseResult",
    "ClaudeHarness",
    "ConsoleReporter",
    "Engine",
    "EngineStatistics",
    "FrozenState",
    "FunctionHarness",
    "Harness",
    "HarnessError",
    "HarnessRequest",
    "HarnessResult",
    "Journal",
    "JsonlSignalStore",
    "LiveReporter",
    "LocalCallLimiter",
    "LogCursor",
    "LogReporter",
    "MemorySignalStore",
    "Metrics",
    "MetricsReporter",
    "MetricsSnapshot",
    "OpenHarnessError",
    "OutputParseError",
    "Pattern",
    "Player",
    "PlayerSnapshot",
    "ProgressPrinter",
    "RayOptions",
    "Recording",
    "RecordingData",
    "RecordingInfo",
    "ReplayDivergenceError",
    "Reporter",
    "RestartIntensityError",
    "RestartPolicy",
    "RetryPolicy",
    "RunHandle",
    "ScriptedHarness",
    "Signal",
    "SignalSource",
    "SignalStore",
    "SqliteSignalStore",
    "StoreError",
    "TemplateError",
    "Usage",
    "UserCodeError",
    "WorkerIncident",
    "WorkerLostError",
    "Workflow",
    "WorkflowCancelledError",
    "WorkflowDefinitionError",
    "WorkflowResult",
    "WorkflowTimeoutError",
    "compile_pattern",
    "configure_logging",
    "create_workflow",
    "matches",
    "open_engine",
    "open_ray_pool",
    "run_batch",
]


__getattr__, __dir__ = _lazy_exports(
    __name__, globals(), ".harness.anthropic", ("AnthropicHarness", "ClaudeHarness")
)
