"""The public surface is exactly what we mean it to be."""

from __future__ import annotations

import importlib
import inspect

import pytest

import openharness_actors

# The public surface, pinned: adding or removing a name is a deliberate edit of this table.
PINNED: dict[str, set[str]] = {
    "openharness_actors": {
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
    },
    "openharness_actors.harness": {
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
    },
    "openharness_actors.recording": {
        "Ask",
        "Checkpoint",
        "Divergence",
        "JsonlSignalStore",
        "MemorySignalStore",
        "Player",
        "PlayerSnapshot",
        "Recorder",
        "Recording",
        "RecordingData",
        "RecordingHarness",
        "RecordingInfo",
        "RecordingPlan",
        "ReplayHarness",
        "SignalStore",
        "SqliteSignalStore",
        "ToolCallView",
        "default_store",
    },
    "openharness_actors.reporters": {
        "ConsoleReporter",
        "LiveReporter",
        "LogReporter",
        "MetricsReporter",
        "MetricsSnapshot",
    },
    "openharness_actors.testing": {
        "FakeAnthropic",
        "FakeAnthropicStatistics",
        "FakeReply",
        "FakeToolUse",
        "RecordedRequest",
        "SignalCapture",
        "assert_causal_chain",
        "assert_count",
        "assert_no_signal",
        "assert_sequence",
        "assert_signal",
        "capture_signals",
        "causal_chain",
        "dropped_reply",
        "find_signals",
        "format_signals",
        "http_error",
        "open_fake_anthropic",
        "signals_of",
        "stalled_reply",
        "stream_error",
        "text_reply",
        "tool_use_reply",
    },
    "openharness_actors.journal": {
        "Durability",
        "Journal",
        "ResumeSession",
    },
    "openharness_actors.batch": {
        "BatchMetrics",
        "BatchProgress",
        "BatchResult",
        "CaseResult",
        "ModelBatchCounts",
        "ProgressPrinter",
        "RayOptions",
        "WorkerIncident",
        "open_ray_pool",
        "run_batch",
    },
    "openharness_actors.cli": {
        "ExitCode",
        "build_parser",
        "main",
    },
}


@pytest.mark.parametrize("module", sorted(PINNED))
def test_public_surface_is_pinned(module: str) -> None:
    """Each public package exports exactly the pinned names, and every one resolves."""
    package = importlib.import_module(module)
    assert set(package.__all__) == PINNED[module]
    assert len(package.__all__) == len(set(package.__all__))
    for name in package.__all__:
        assert getattr(package, name) is not None


@pytest.mark.parametrize("module", sorted(PINNED))
def test_public_classes_name_their_public_home(module: str) -> None:
    """Exported classes and functions show a public module (the root when the root exports
    them), never a private one, as trio's do."""
    package = importlib.import_module(module)
    root = set(openharness_actors.__all__)
    for name in package.__all__:
        value = getattr(package, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if not getattr(value, "__module__", "").startswith("openharness_actors"):
            continue
        expected = "openharness_actors" if name in root else module
        assert value.__module__ == expected, f"{module}.{name} shows {value.__module__}"


def test_all_is_sorted_and_resolvable() -> None:
    """__all__ is sorted, has no duplicates and every name resolves."""
    names = openharness_actors.__all__
    assert list(names) == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(openharness_actors, name) is not None


def test_no_accidental_public_names() -> None:
    """Every public attribute of the package is listed in __all__."""
    public = {
        n
        for n in dir(openharness_actors)
        if not n.startswith("_")
        and not isinstance(getattr(openharness_actors, n), type(openharness_actors))
    }
    assert public == set(openharness_actors.__all__)


def test_errors_share_one_base() -> None:
    """Every exported error subclasses OpenHarnessError; the builtin mixins hold."""
    from openharness_actors import (
        OpenHarnessError,
        WorkflowDefinitionError,
        WorkflowTimeoutError,
    )

    errors = [
        getattr(openharness_actors, n) for n in openharness_actors.__all__ if n.endswith("Error")
    ]
    assert all(issubclass(e, OpenHarnessError) for e in errors)
    assert issubclass(WorkflowTimeoutError, TimeoutError)
    assert issubclass(WorkflowDefinitionError, ValueError)


def test_eval_names_exported() -> None:
    """The batch harness, budgets and their error are public, the harness imported lazily."""
    import openharness_actors.harness as harness

    for name in ("AnthropicBatchHarness", "Budget", "BudgetExceededError", "ModelBatchCounts"):
        assert name in openharness_actors.__all__
    assert "AnthropicBatchHarness" in harness.__all__
    assert harness.AnthropicBatchHarness is openharness_actors.AnthropicBatchHarness
    assert issubclass(openharness_actors.BudgetExceededError, openharness_actors.OpenHarnessError)


def test_unstorable_value_error_is_a_store_and_value_error() -> None:
    """UnstorableValueError is exported, and is both a StoreError and a ValueError."""
    from openharness_actors import StoreError, UnstorableValueError

    assert "UnstorableValueError" in openharness_actors.__all__
    assert issubclass(UnstorableValueError, StoreError)
    assert issubclass(UnstorableValueError, ValueError)


def test_batch_package_surface() -> None:
    """openharness_actors.batch exports exactly the batch names, the same objects as the root."""
    from openharness_actors import batch

    assert list(batch.__all__) == sorted(batch.__all__)
    assert set(batch.__all__) == {
        n
        for n in dir(batch)
        if not n.startswith("_") and not isinstance(getattr(batch, n), type(batch))
    }
    for name in batch.__all__:
        assert getattr(openharness_actors, name) is getattr(batch, name), name


def test_external_signal_error_is_exported_and_a_value_error() -> None:
    """ExternalSignalError is public, and is both an OpenHarnessError and a ValueError."""
    from openharness_actors import ExternalSignalError, OpenHarnessError

    assert "ExternalSignalError" in openharness_actors.__all__
    assert issubclass(ExternalSignalError, OpenHarnessError)
    assert issubclass(ExternalSignalError, ValueError)
