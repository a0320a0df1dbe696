"""Optional reporters: Prometheus metrics and OpenTelemetry spans (skipped without extras)."""

from __future__ import annotations

import attrs
import pytest

from openharness_actors import (
    HarnessError,
    ScriptedHarness,
    WorkflowTimeoutError,
    create_workflow,
)

prometheus_client = pytest.importorskip("prometheus_client")
pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import StatusCode  # noqa: E402

from openharness_actors.reporters.otel import OpenTelemetryReporter  # noqa: E402
from openharness_actors.reporters.prometheus import PrometheusReporter  # noqa: E402


@attrs.frozen
class State:
    input: str
    a: str | None = None
    b: str | None = None


wf = create_workflow(State)
agent_a = wf.agent(prompt="A", activate_on=["workflow:start"], updates="a", emits=["a:done"])
agent_b = wf.agent(prompt="B", activate_on=["a:done"], updates="b")


async def test_prometheus_counts_runs_activations_tokens() -> None:
    """Runs by status, activations by outcome, tokens and signals land in the registry."""
    registry = prometheus_client.CollectorRegistry()
    reporter = PrometheusReporter(registry, namespace="t")
    result = await wf.run_reactive(
        agents={"a": agent_a, "b": agent_b},
        state=State("x"),
        harness=ScriptedHarness(default="12345678"),
        reporters=[reporter],
    )
    with pytest.raises(HarnessError):
        await wf.run_reactive(
            agents={"a": agent_a},
            state=State("x"),
            harness=ScriptedHarness({"a": [HarnessError("down", code="529")]}),
            reporters=[reporter],
        )
    value = registry.get_sample_value
    assert value("t_runs_started_total") == 2
    assert value("t_runs_in_progress") == 0
    assert value("t_runs_total", {"status": "completed"}) == 1
    assert value("t_runs_total", {"status": "failed"}) == 1
    assert value("t_activations_total", {"agent": "a", "outcome": "completed"}) == 1
    assert value("t_activations_total", {"agent": "a", "outcome": "failed"}) == 1
    assert value("t_harness_errors_total", {"agent": "a", "code": "529"}) == 1
    assert value("t_activation_duration_seconds_count", {"agent": "b"}) == 1
    assert value("t_tokens_total", {"agent": "b", "kind": "output"}) == 2
    assert value("t_signals_total", {"name": "workflow:end"}) == 2
    assert value("t_signals_total", {"name": "text:delta"}) == len(
        result.signals_named("text:delta")
    )
    assert b"t_run_duration_seconds_bucket" in prometheus_client.generate_latest(registry)


async def test_otel_span_tree_run_activation_harness() -> None:
    """A run span parents activation spans, which parent harness spans, with token counts."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    result = await wf.run_reactive(
        agents={"a": agent_a, "b": agent_b},
        state=State("x"),
        harness=ScriptedHarness(default="12345678"),
        reporters=[OpenTelemetryReporter(tracer_provider=provider)],
    )
    spans = exporter.get_finished_spans()
    (run,) = [s for s in spans if s.name == "workflow.run"]
    activations = [s for s in spans if s.name == "agent.activation"]
    calls = [s for s in spans if s.name == "harness.call"]
    assert len(activations) == 2 and len(calls) == 2
    assert run.attributes is not None and run.attributes["openharness.run_id"] == result.run_id
    assert run.parent is None and run.status.status_code is not StatusCode.ERROR
    assert run.context is not None
    for activation in activations:
        assert activation.parent is not None and activation.context is not None
        assert activation.parent.span_id == run.context.span_id
        assert activation.context.trace_id == run.context.trace_id
    by_id = {a.context.span_id: a for a in activations if a.context is not None}
    for call in calls:
        assert call.parent is not None and call.parent.span_id in by_id
        parent = by_id[call.parent.span_id]
        assert call.attributes is not None and parent.attributes is not None
        assert call.attributes["openharness.agent"] == parent.attributes["openharness.agent"]
        assert call.attributes["gen_ai.usage.output_tokens"] == 2
        assert call.start_time is not None and parent.start_time is not None
        assert parent.start_time <= call.start_time
    assert run.start_time == int(result.signals[0].timestamp * 1e9)
    assert run.end_time == int(result.signals[-1].timestamp * 1e9)


async def test_otel_timeout_ends_open_spans_with_error() -> None:
    """A timed-out run ends its open activation and harness spans, all marked as errors."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with pytest.raises(WorkflowTimeoutError):
        await wf.run_reactive(
            agents={"a": agent_a},
            state=State("x"),
            harness=ScriptedHarness(default="r", delay=10.0),
            reporters=[OpenTelemetryReporter(tracer_provider=provider)],
            timeout=0.05,
        )
    spans = exporter.get_finished_spans()
    assert sorted(s.name for s in spans) == ["agent.activation", "harness.call", "workflow.run"]
    assert all(s.status.status_code is StatusCode.ERROR for s in spans)
