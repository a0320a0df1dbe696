"""OpenTelemetryReporter: OpenTelemetry spans built from a run's signals.

Needs the ``otel`` extra (``pip install 'openharness-actors[otel]'``: the OpenTelemetry API;
install and configure an SDK to export). Importing this module without it raises
``ImportError`` saying so.

Span tree, with start and end times taken from the signals' timestamps:

* ``workflow.run`` — ``workflow:start`` to ``workflow:end`` (status ``ERROR`` unless the run
  completed or was terminated by ``end_when``);
* ``agent.activation`` — ``agent:activated`` to ``agent:completed``/``failed``/``cancelled``,
  child of the run span;
* ``harness.call`` — ``harness:start`` to ``harness:end``/``harness:error``, child of its
  activation's span, with model and token counts (``gen_ai.*`` attributes) and tool calls as
  span events.

Spans still open when ``workflow:end`` arrives (a timeout or cancellation cut them) are ended
there with an ``ERROR`` status. Unless ``parent`` context is given, run spans are children of
the context current when the reporter was created, so a service's request span can adopt them.
"""

from __future__ import annotations

from typing import Any

try:
    from opentelemetry import context as otel_context, trace
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "OpenTelemetryReporter needs opentelemetry-api: pip install 'openharness-actors[otel]'"
    ) from exc

from .._core._signal import Signal
from .._json import dumps
from ._tracking import ACTIVATION_ENDS, usage_of

__all__ = ["OpenTelemetryReporter"]

_OK_STATUSES = frozenset({"completed", "terminated"})


def _ns(signal: Signal) -> int:
    return int(signal.timestamp * 1_000_000_000)


class OpenTelemetryReporter:
    """Turns signals into spans; see the module docstring.

    ``tracer`` defaults to ``trace.get_tracer("openharness_actors", tracer_provider=...)``
    (the global provider when ``tracer_provider`` is ``None``). ``parent`` is the context
    run spans are children of (default: the current context at construction).
    """

    def __init__(
        self,
        tracer: trace.Tracer | None = None,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        parent: otel_context.Context | None = None,
    ) -> None:
        self._tracer = tracer or trace.get_tracer(
            "openharness_actors", tracer_provider=tracer_provider
        )
        self._parent = parent if parent is not None else otel_context.get_current()
        self._runs: dict[str, trace.Span] = {}
        # open activation and harness-call spans, keyed by activation id, with their run
        self._activations: dict[str, tuple[str, trace.Span]] = {}
        self._calls: dict[str, tuple[str, trace.Span]] = {}

    def on_signal(self, signal: Signal) -> None:
        """Open, annotate or end the span ``signal`` belongs to."""
        name = signal.name
        payload = signal.payload
        if name == "workflow:start":
            self._runs[signal.run_id] = self._tracer.start_span(
                "workflow.run",
                context=self._parent,
                start_time=_ns(signal),
                attributes={
                    "openharness.run_id": signal.run_id,
                    "openharness.agents": [str(a) for a in payload.get("agents", ())],
                },
            )
        elif name == "workflow:end":
            self._end_run(signal)
        elif name == "agent:activated":
            run = self._runs.get(signal.run_id)
            span = self._tracer.start_span(
                "agent.activation",
                context=trace.set_span_in_context(run) if run is not None else self._parent,
                start_time=_ns(signal),
                attributes={
                    "openharness.run_id": signal.run_id,
                    "openharness.agent": signal.agent or "",
                    "openharness.trigger": str(payload.get("trigger")),
                    "openharness.activation_id": signal.id,
                },
            )
            self._activations[signal.id] = (signal.run_id, span)
        elif name in ACTIVATION_ENDS:
            opened = self._activations.pop(signal.parent or "", None)
            if opened is not None:
                span = opened[1]
                span.set_attribute("openharness.outcome", name.partition(":")[2])
                if name != "agent:completed":
                    reason = payload.get("error") or payload.get("reason") or name
                    span.set_status(trace.Status(trace.StatusCode.ERROR, str(reason)))
                span.end(end_time=_ns(signal))
        elif name == "harness:start":
            self._start_call(signal)
        elif name in ("harness:end", "harness:error"):
            self._end_call(signal)
        elif name in ("tool:call", "tool:result", "harness:retry"):
            opened = self._calls.get(signal.parent or "")
            if opened is not None:
                opened[1].add_event(name, _event_attributes(payload), timestamp=_ns(signal))

    def _start_call(self, signal: Signal) -> None:
        activation = self._activations.get(signal.parent or "")
        context = trace.set_span_in_context(activation[1]) if activation else self._parent
        model = signal.payload.get("model")
        attributes: dict[str, Any] = {
            "openharness.run_id": signal.run_id,
            "openharness.agent": signal.agent or "",
            "openharness.harness": signal.source.harness or "",
        }
        if model:
            attributes["gen_ai.request.model"] = str(model)
        span = self._tracer.start_span(
            "harness.call", context=context, start_time=_ns(signal), attributes=attributes
        )
        self._calls[signal.parent or signal.id] = (signal.run_id, span)

    def _end_call(self, signal: Signal) -> None:
        opened = self._calls.pop(signal.parent or "", None)
        if opened is None:
            return
        span = opened[1]
        payload = signal.payload
        if signal.name == "harness:error":
            span.set_attribute("openharness.error_code", str(payload.get("code")))
            span.set_status(trace.Status(trace.StatusCode.ERROR, str(payload.get("message"))))
        else:
            usage = usage_of(signal)
            span.set_attribute("gen_ai.usage.input_tokens", usage["input_tokens"])
            span.set_attribute("gen_ai.usage.output_tokens", usage["output_tokens"])
            if payload.get("model"):
                span.set_attribute("gen_ai.response.model", str(payload["model"]))
            if payload.get("stop_reason"):
                span.set_attribute("gen_ai.response.finish_reasons", [str(payload["stop_reason"])])
            if payload.get("cost_usd") is not None:
                span.set_attribute("openharness.cost_usd", float(payload["cost_usd"]))
        span.end(end_time=_ns(signal))

    def _end_run(self, signal: Signal) -> None:
        status = str(signal.payload.get("status"))
        end = _ns(signal)
        for table in (self._calls, self._activations):
            for key in [k for k, (run_id, _) in table.items() if run_id == signal.run_id]:
                span = table.pop(key)[1]
                span.set_status(trace.Status(trace.StatusCode.ERROR, f"run ended: {status}"))
                span.end(end_time=end)
        run = self._runs.pop(signal.run_id, None)
        if run is None:
            return
        run.set_attribute("openharness.status", status)
        run.set_attribute("openharness.activations", int(signal.payload.get("activations") or 0))
        if status not in _OK_STATUSES:
            message = signal.payload.get("error") or status
            run.set_status(trace.Status(trace.StatusCode.ERROR, str(message)))
        run.end(end_time=end)


def _event_attributes(payload: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, str | bool | int | float):
            attributes[key] = value
        elif value is not None:
            attributes[key] = dumps(value)[:1000]
    return attributes
