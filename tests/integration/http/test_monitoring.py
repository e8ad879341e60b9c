"""Monitoring: /metrics in Prometheus text, HTTP requests counted, per-service state, traces, the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from chapkit.adapters.http import get_service_metrics, install_monitoring
from chapkit.adapters.observability.metrics import (
    ML_PREDICT_JOBS_TOTAL,
    ML_TRAIN_JOBS_TOTAL,
    MonitoringUnavailableError,
    ServiceMetrics,
)

REQUEST_DURATION = "http_server_duration_milliseconds"


def monitored_app(**kwargs: Any) -> FastAPI:
    app = FastAPI(title="Monitored")

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    install_monitoring(app, **kwargs)
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def samples(text: str, metric: str) -> list[tuple[str, dict[str, str], float]]:
    """All samples of one metric family in a Prometheus text exposition."""
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        if family.name == metric
        for sample in family.samples
    ]


def request_count(text: str, route: str, status: str = "200") -> float:
    return sum(
        value
        for name, labels, value in samples(text, REQUEST_DURATION)
        if name == f"{REQUEST_DURATION}_count"
        and labels.get("http_target") == route
        and labels.get("http_status_code") == status
    )


async def test_metrics_are_prometheus_text_with_the_service_name() -> None:
    async with client_for(monitored_app(service_name="svc-a")) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    (target,) = families["target_info"].samples
    assert target.labels["service_name"] == "svc-a"


async def test_metrics_carry_the_python_process_and_gc_collectors() -> None:
    """As Prometheus users and the reference expect, beside the OpenTelemetry metrics."""
    async with client_for(monitored_app(service_name="svc-p")) as client:
        response = await client.get("/metrics")
    families = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "python_info",
        "python_gc_objects_collected",
        "process_cpu_seconds",
        "process_resident_memory_bytes",
    } <= families
    assert "python_gc_objects_collected_total" in response.text


async def test_http_requests_are_counted_per_route_and_status() -> None:
    app = monitored_app()
    async with client_for(app) as client:
        for _ in range(3):
            assert (await client.get("/ping")).status_code == 200
        for item_id in (1, 2):
            await client.get(f"/items/{item_id}")
        assert (await client.get("/items/not-a-number")).status_code == 422
        text = (await client.get("/metrics")).text
    assert request_count(text, "/ping") == 3
    assert request_count(text, "/items/{item_id}") == 2
    assert request_count(text, "/items/{item_id}", status="422") == 1
    sums = [
        v for n, labels, v in samples(text, REQUEST_DURATION) if n.endswith("_sum") and labels["http_target"] == "/ping"
    ]
    assert sums and sums[0] >= 0


async def test_service_name_defaults_to_the_app_title() -> None:
    async with client_for(monitored_app()) as client:
        text = (await client.get("/metrics")).text
    assert samples(text, "target_info")[0][1]["service_name"] == "Monitored"


async def test_prefix_and_tags_are_configurable() -> None:
    app = monitored_app(prefix="/internal/metrics", tags=["Ops"])
    async with client_for(app) as client:
        assert (await client.get("/internal/metrics")).status_code == 200
        assert (await client.get("/metrics")).status_code == 404
        document = (await client.get("/openapi.json")).json()
    assert document["paths"]["/internal/metrics"]["get"]["tags"] == ["Ops"]


async def test_ml_counters_are_created_on_demand() -> None:
    app = monitored_app()
    metrics = get_service_metrics(app)
    assert metrics is not None
    async with client_for(app) as client:
        assert samples((await client.get("/metrics")).text, ML_TRAIN_JOBS_TOTAL) == []
        metrics.increment(ML_TRAIN_JOBS_TOTAL)
        metrics.increment(ML_TRAIN_JOBS_TOTAL)
        metrics.increment(ML_PREDICT_JOBS_TOTAL, attributes={"model": "m1"})
        text = (await client.get("/metrics")).text
    assert metrics.counter(ML_TRAIN_JOBS_TOTAL) is metrics.counter(ML_TRAIN_JOBS_TOTAL)
    # Counter families are named without `_total`; the sample keeps the full name.
    train = samples(text, ML_TRAIN_JOBS_TOTAL.removesuffix("_total"))
    assert [(name, value) for name, _, value in train] == [(ML_TRAIN_JOBS_TOTAL, 2.0)]
    predict = samples(text, ML_PREDICT_JOBS_TOTAL.removesuffix("_total"))
    assert [(name, labels["model"], value) for name, labels, value in predict] == [(ML_PREDICT_JOBS_TOTAL, "m1", 1.0)]


async def test_two_services_share_no_metrics() -> None:
    first, second = monitored_app(service_name="first"), monitored_app(service_name="second")
    first_metrics, second_metrics = get_service_metrics(first), get_service_metrics(second)
    assert first_metrics is not None and second_metrics is not None
    first_metrics.increment(ML_TRAIN_JOBS_TOTAL)
    async with client_for(first) as one, client_for(second) as two:
        for _ in range(4):
            await one.get("/ping")
        await two.get("/ping")
        first_text, second_text = (await one.get("/metrics")).text, (await two.get("/metrics")).text
    assert (request_count(first_text, "/ping"), request_count(second_text, "/ping")) == (4, 1)
    assert samples(second_text, "ml_train_jobs") == []
    assert samples(second_text, "target_info")[0][1]["service_name"] == "second"


async def test_traces_are_recorded_when_enabled() -> None:
    app = monitored_app(service_name="traced", enable_traces=True)
    metrics = get_service_metrics(app)
    assert metrics is not None and metrics.tracer_provider is not None
    exporter = InMemorySpanExporter()
    metrics.tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with client_for(app) as client:
        await client.get("/items/7")
    spans = exporter.get_finished_spans()
    server = [span for span in spans if span.parent is None]
    assert [span.name for span in server] == ["GET /items/{item_id}"]
    assert server[0].resource.attributes["service.name"] == "traced"
    assert server[0].attributes is not None and server[0].attributes["http.status_code"] == 200


def test_traces_are_off_by_default() -> None:
    metrics = get_service_metrics(monitored_app())
    assert metrics is not None and metrics.tracer_provider is None


def test_plain_app_has_no_metrics() -> None:
    assert get_service_metrics(FastAPI()) is None


def test_shutdown_stops_reporting() -> None:
    metrics = ServiceMetrics("stopped", enable_traces=True)
    metrics.increment(ML_TRAIN_JOBS_TOTAL)
    assert samples(metrics.render().decode(), "ml_train_jobs")
    metrics.shutdown()
    assert samples(metrics.render().decode(), "ml_train_jobs") == []


def test_missing_extra_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.prometheus", None)
    with pytest.raises(MonitoringUnavailableError, match=r"pip install 'chapkit\[monitoring\]'") as caught:
        install_monitoring(FastAPI())
    assert isinstance(caught.value, ImportError)


def test_chapkit_imports_without_the_monitoring_extra() -> None:
    script = textwrap.dedent(
        """
        import sys
        from importlib.abc import MetaPathFinder

        class Block(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"prometheus_client"} or name.startswith(
                    ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.instrumentation")
                ):
                    raise ImportError(f"blocked {name}", name=name)
                return None

        sys.meta_path.insert(0, Block())
        import chapkit, chapkit.api, chapkit.adapters.http
        from fastapi import FastAPI
        try:
            chapkit.adapters.http.install_monitoring(FastAPI())
        except ImportError as e:
            print(type(e).__name__, e)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("MonitoringUnavailableError Monitoring needs the 'monitoring' extra")
