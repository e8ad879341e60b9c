"""Per-service OpenTelemetry metrics exported in Prometheus text format (the `monitoring` extra).

Importing this module needs nothing beyond chapkit's base install; OpenTelemetry and the Prometheus
client are imported when a `ServiceMetrics` is created, which raises `MonitoringUnavailableError`
when the extra is not installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chapkit.domain.extras import MissingExtraError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from opentelemetry.metrics import Counter, Meter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from prometheus_client import CollectorRegistry

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
ML_TRAIN_JOBS_TOTAL = "ml_train_jobs_total"
ML_PREDICT_JOBS_TOTAL = "ml_predict_jobs_total"

_METER_NAME = "chapkit"
_MONITORING_PACKAGES = "opentelemetry-sdk, opentelemetry-exporter-prometheus, opentelemetry-instrumentation-fastapi"


class MonitoringUnavailableError(MissingExtraError):
    """Monitoring was asked for but the `monitoring` extra is not installed."""

    def __init__(self, missing: str) -> None:
        super().__init__("Monitoring", "monitoring", missing=missing, detail=_MONITORING_PACKAGES)


class ServiceMetrics:
    """One service's meter provider, Prometheus registry and (optionally) tracer provider.

    Nothing is global: two services in one process each get their own providers and registry, so
    their counters never mix and `render()` shows only this service's metrics.
    """

    def __init__(self, service_name: str, *, enable_traces: bool = False) -> None:
        try:
            from opentelemetry.exporter.prometheus import PrometheusMetricReader
            from opentelemetry.sdk.metrics import MeterProvider
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR, CollectorRegistry
        except ImportError as e:
            raise MonitoringUnavailableError(e.name or str(e)) from e

        self.service_name = service_name
        resource = Resource.create({"service.name": service_name})
        self.registry: CollectorRegistry = CollectorRegistry(auto_describe=True)
        # The process, platform and GC collectors Prometheus users expect (`process_*`, `python_info`,
        # `python_gc_*`), as the default registry has them; they describe the process, so sharing is right.
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self._reader = PrometheusMetricReader(registry=self.registry)
        # Pull-based export holds nothing to flush at exit, and an exit hook per service would pin it in memory.
        self.meter_provider: MeterProvider = MeterProvider(
            resource=resource, metric_readers=[self._reader], shutdown_on_exit=False
        )
        # Span processors added by users may buffer spans, so the tracer provider flushes at exit.
        self.tracer_provider: TracerProvider | None = TracerProvider(resource=resource) if enable_traces else None
        self._meter: Meter = self.meter_provider.get_meter(_METER_NAME)
        self._counters: dict[str, Counter] = {}

    def counter(self, name: str, *, description: str = "", unit: str = "") -> Counter:
        """The counter called `name`, created on first use (later calls return the same one)."""
        existing = self._counters.get(name)
        if existing is None:
            existing = self._meter.create_counter(name, unit=unit, description=description)
            self._counters[name] = existing
        return existing

    def increment(
        self, name: str, amount: int = 1, attributes: Mapping[str, str | int | float | bool] | None = None
    ) -> None:
        """Add `amount` to the counter called `name` (creating it on first use)."""
        self.counter(name).add(amount, attributes=dict(attributes) if attributes else None)

    def render(self) -> bytes:
        """Render the service's metrics in Prometheus text format (version 0.0.4)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry)

    def shutdown(self) -> None:
        """Stop the providers; the registry stops reporting this service's metrics."""
        self.meter_provider.shutdown()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()


__all__ = [
    "ML_PREDICT_JOBS_TOTAL",
    "ML_TRAIN_JOBS_TOTAL",
    "PROMETHEUS_CONTENT_TYPE",
    "MonitoringUnavailableError",
    "ServiceMetrics",
]
