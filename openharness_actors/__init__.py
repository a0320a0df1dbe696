"""openharness_actors: reactive, signal-driven multi-agent LLM workflows on trio actors.

Agents declare the signals that wake them (``activate_on``), the signals they emit and the
state key they update; the workflow emerges from the signal flow. See ``README.md``.

``AnthropicHarness``/``ClaudeHarness``, ``AnthropicBatchHarness`` and ``ClaudeCodeHarness``
are imported on first access, so that importing the package does not import the ``anthropic``
SDK until a program uses it (``claude_agent_sdk`` is imported later still: by a
``ClaudeCodeHarness``'s first call).
"""

import typing as _typing

from ._budget import Budget as Budget, Spend as Spend
from ._core._reporting import Reporter as Reporter
from ._core._result import (
    AgentMetrics as AgentMetrics,
    Metrics as Metrics,
    WorkflowResult as WorkflowResult,
)
from ._core._signal import Signal as Signal, SignalSource as SignalSource
from ._core._signal_log import LogCursor as LogCursor
from ._core._supervisor import RestartPolicy as RestartPolicy
from ._core._usage import Usage as Usage
from ._define._agent import AgentContext as AgentContext, AgentSpec as AgentSpec
from ._define._all_of import AllOf as AllOf, all_of as all_of
from ._define._check import Finding as Finding
from ._define._pattern import (
    Pattern as Pattern,
    compile_pattern as compile_pattern,
    matches as matches,
)
from ._define._policy import RetryPolicy as RetryPolicy, default_retry_on as default_retry_on
from ._define._state import FrozenState as FrozenState
from ._define._workflow import Workflow as Workflow, create_workflow as create_workflow
from ._engine import (
    Engine as Engine,
    EngineStatistics as EngineStatistics,
    RunHandle as RunHandle,
    open_engine as open_engine,
)
from ._errors import (
    ActivationLimitError as ActivationLimitError,
    ActivationTimeoutError as ActivationTimeoutError,
    BudgetExceededError as BudgetExceededError,
    ExternalSignalError as ExternalSignalError,
    HarnessError as HarnessError,
    OpenHarnessError as OpenHarnessError,
    OutputParseError as OutputParseError,
    ReplayDivergenceError as ReplayDivergenceError,
    RestartIntensityError as RestartIntensityError,
    StoreError as StoreError,
    TemplateError as TemplateError,
    UnknownOptionError as UnknownOptionError,
    UnstorableValueError as UnstorableValueError,
    UserCodeError as UserCodeError,
    WorkerLostError as WorkerLostError,
    WorkflowCancelledError as WorkflowCancelledError,
    WorkflowDefinitionError as WorkflowDefinitionError,
    WorkflowTimeoutError as WorkflowTimeoutError,
)
from ._lazy import lazy_exports_from as _lazy_exports_from
from ._log_setup import configure_logging as configure_logging
from .batch import (
    BatchMetrics as BatchMetrics,
    BatchProgress as BatchProgress,
    BatchResult as BatchResult,
    CaseResult as CaseResult,
    ModelBatchCounts as ModelBatchCounts,
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
    choose_harness as choose_harness,
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
    from .harness.anthropic_batch import AnthropicBatchHarness as AnthropicBatchHarness
    from .harness.claude_code import ClaudeCodeHarness as ClaudeCodeHarness

__version__ = "0.1.0"

__all__ = [
    "ActivationLimitError",
    "ActivationTimeoutError",
    "AgentContext",
    "AgentMetrics",
    "AgentSpec",
    "AllOf",
    "AnthropicBatchHarness",
    "AnthropicHarness",
    "BatchMetrics",
    "BatchProgress",
    "BatchResult",
    "Budget",
    "BudgetExceededError",
    "CallLimiter",
    "CallLimits",
    "CaseResult",
    "ClaudeCodeHarness",
    "ClaudeHarness",
    "ConsoleReporter",
    "Engine",
    "EngineStatistics",
    "ExternalSignalError",
    "Finding",
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
    "ModelBatchCounts",
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
    "Spend",
    "SqliteSignalStore",
    "StoreError",
    "TemplateError",
    "UnknownOptionError",
    "UnstorableValueError",
    "Usage",
    "UserCodeError",
    "WorkerIncident",
    "WorkerLostError",
    "Workflow",
    "WorkflowCancelledError",
    "WorkflowDefinitionError",
    "WorkflowResult",
    "WorkflowTimeoutError",
    "all_of",
    "choose_harness",
    "compile_pattern",
    "configure_logging",
    "create_workflow",
    "default_retry_on",
    "matches",
    "open_engine",
    "open_ray_pool",
    "run_batch",
]


__getattr__, __dir__ = _lazy_exports_from(
    __name__,
    globals(),
    {
        ".harness.anthropic": ("AnthropicHarness", "ClaudeHarness"),
        ".harness.anthropic_batch": ("AnthropicBatchHarness",),
        ".harness.claude_code": ("ClaudeCodeHarness",),
    },
)

from ._public import publish as _publish  # noqa: E402

_publish(globals(), __all__, __name__)
