"""Monitoring for a FastAPI app: `/metrics` in Prometheus text, HTTP instrumentation, optional traces."""

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, Response

from chapkit.adapters.observability.metrics import PROMETHEUS_CONTENT_TYPE, MonitoringUnavailableError, ServiceMetrics


class MetricsRouter:
    """Prometheus metrics endpoint for one service's `ServiceMetrics`."""

    def __init__(self, prefix: str, tags: Sequence[str], *, metrics: ServiceMetrics, **kwargs: Any) -> None:
        """Initialize router with prefix, tags and the metrics it serves."""
        self.metrics = metrics
        self.router = APIRouter(prefix=prefix, tags=list(tags), **kwargs)
        self._register_routes()

    @classmethod
    def create(cls, prefix: str, tags: Sequence[str], **kwargs: Any) -> APIRouter:
        """Create a router instance and return the FastAPI router."""
        return cls(prefix=prefix, tags=tags, **kwargs).router

    def _register_routes(self) -> None:
        """Register the metrics endpoint."""
        metrics = self.metrics

        @self.router.get(
            "",
            summary="Prometheus metrics",
            response_class=Response,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Metrics"}},
        )
        async def get_metrics() -> Response:
            return Response(content=metrics.render(), media_type=PROMETHEUS_CONTENT_TYPE)


def install_monitoring(
    app: FastAPI,
    *,
    service_name: str | None = None,
    enable_traces: bool = False,
    prefix: str = "/metrics",
    tags: Sequence[str] | None = None,
) -> ServiceMetrics:
    """Instrument `app`'s HTTP requests with OpenTelemetry and serve its metrics at `prefix`.

    Call it while building the app, before static apps are mounted (a mount at `/` would shadow a
    route added after it). The metrics are kept on `app.state.metrics`. Raises
    `MonitoringUnavailableError` when the `monitoring` extra is not installed.
    """
    metrics = ServiceMetrics(service_name or app.title, enable_traces=enable_traces)
    try:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
        from opentelemetry.trace import NoOpTracerProvider
    except ImportError as e:
        raise MonitoringUnavailableError(e.name or str(e)) from e

    # Without traces, an explicit no-op provider: the global one may be set by someone else.
    tracer_provider = metrics.tracer_provider if metrics.tracer_provider is not None else NoOpTracerProvider()
    FastAPIInstrumentor.instrument_app(app, meter_provider=metrics.meter_provider, tracer_provider=tracer_provider)
    router_tags = list(tags) if tags is not None else ["Observability"]
    app.include_router(MetricsRouter.create(prefix, router_tags, metrics=metrics))
    app.state.metrics = metrics
    return metrics


def get_service_metrics(app: FastAPI) -> ServiceMetrics | None:
    """The metrics `install_monitoring` set up for `app`, or None when monitoring is off."""
    metrics = getattr(app.state, "metrics", None)
    return metrics if isinstance(metrics, ServiceMetrics) else None


__all__ = ["MetricsRouter", "get_service_metrics", "install_monitoring"]
