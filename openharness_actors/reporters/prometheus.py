"""PrometheusReporter: run, activation, token and signal figures as Prometheus metrics.

Needs the ``prometheus`` extra (``pip install 'openharness-actors[prometheus]'``); importing
this module without ``prometheus_client`` raises ``ImportError`` saying so. Expose the
registry the usual way (``prometheus_client.generate_latest(reporter.registry)`` or its HTTP
helpers). Label values are agent names, signal names, statuses and error codes: all bounded by
the workflow's definition.
"""

from __future__ import annotations

try:
    import prometheus_client
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "PrometheusReporter needs prometheus_client: pip install 'openharness-actors[prometheus]'"
    ) from exc

from .._core._signal import Signal
from ._tracking import ACTIVATION_ENDS, Timers, usage_of

__all__ = ["PrometheusReporter"]

_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, float("inf"))


class PrometheusReporter:
    """Updates Prometheus metrics from every signal of the runs it watches.

    Metrics (``namespace`` prefixed, ``openharness`` by default): ``runs_started_total``,
    ``runs_in_progress``, ``runs_total{status}``, ``run_duration_seconds``,
    ``signals_total{name}``, ``activations_total{agent,outcome}`` (outcome: completed, failed,
    cancelled, skipped), ``activation_duration_seconds{agent}``,
    ``harness_errors_total{agent,code}``, ``tokens_total{agent,kind}`` (kind: input, output,
    cache_read, cache_creation) and ``cost_usd_total{agent}``.

    ``registry`` defaults to ``prometheus_client.REGISTRY`` (one reporter per registry:
    Prometheus refuses duplicate metric names).
    """

    def __init__(
        self,
        registry: prometheus_client.CollectorRegistry | None = None,
        *,
        namespace: str = "openharness",
    ) -> None:
        self.registry = registry if registry is not None else prometheus_client.REGISTRY
        ns, reg = namespace, self.registry
        p = prometheus_client
        self._runs_started = p.Counter("runs_started", "Runs started.", namespace=ns, registry=reg)
        self._in_progress = p.Gauge("runs_in_progress", "Runs going.", namespace=ns, registry=reg)
        self._runs = p.Counter(
            "runs", "Runs finished, by status.", ["status"], namespace=ns, registry=reg
        )
        self._run_seconds = p.Histogram(
            "run_duration_seconds",
            "Run wall time.",
            buckets=_LATENCY_BUCKETS,
            namespace=ns,
            registry=reg,
        )
        self._signals = p.Counter(
            "signals", "Signals, by name.", ["name"], namespace=ns, registry=reg
        )
        self._activations = p.Counter(
            "activations",
            "Activations, by agent and outcome.",
            ["agent", "outcome"],
            namespace=ns,
            registry=reg,
        )
        self._activation_seconds = p.Histogram(
            "activation_duration_seconds",
            "Activation wall time, by agent.",
            ["agent"],
            buckets=_LATENCY_BUCKETS,
            namespace=ns,
            registry=reg,
        )
        self._harness_errors = p.Counter(
            "harness_errors", "Failed harness calls.", ["agent", "code"], namespace=ns, registry=reg
        )
        self._tokens = p.Counter(
            "tokens", "Model tokens.", ["agent", "kind"], namespace=ns, registry=reg
        )
        self._cost = p.Counter(
            "cost_usd", "Estimated model cost (USD).", ["agent"], namespace=ns, registry=reg
        )
        self._timers = Timers()

    def on_signal(self, signal: Signal) -> None:
        """Update the metrics with ``signal``."""
        name = signal.name
        payload = signal.payload
        agent = signal.agent or ""
        self._signals.labels(name).inc()
        if name == "workflow:start":
            self._runs_started.inc()
            self._in_progress.inc()
        elif name == "workflow:end":
            self._in_progress.dec()
            self._runs.labels(str(payload.get("status"))).inc()
            self._run_seconds.observe(float(payload.get("duration_ms") or 0.0) / 1000)
            self._timers.close_run(signal.run_id)
        elif name == "agent:activated":
            self._timers.start(signal.id, signal)
        elif name in ACTIVATION_ENDS:
            self._activations.labels(agent, name.partition(":")[2]).inc()
            closed = self._timers.stop(signal.parent, signal)
            if closed is not None:
                self._activation_seconds.labels(agent).observe(closed[1])
        elif name == "agent:skipped":
            self._activations.labels(agent, "skipped").inc()
        elif name == "harness:error":
            self._harness_errors.labels(agent, str(payload.get("code"))).inc()
        elif name == "harness:end":
            for key, count in usage_of(signal).items():
                if count:
                    kind = key.removesuffix("_tokens").removesuffix("_input")
                    self._tokens.labels(agent, kind).inc(count)
            cost = payload.get("cost_usd")
            if cost:
                self._cost.labels(agent).inc(float(cost))
