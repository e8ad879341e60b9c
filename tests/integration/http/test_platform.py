"""Builder wiring of the platform pieces: system router, static apps, landing page, monitoring."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chapkit import get_app_manager
from tests.integration.http.conftest import builder, serve


def make_app(root: Path, name: str, prefix: str, text: str) -> Path:
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "manifest.json").write_text(json.dumps({"name": name, "version": "1.0.0", "prefix": prefix}))
    (directory / "index.html").write_text(f"<html><body>{text}</body></html>")
    return directory


async def test_system_router_reports_host_and_apps(tmp_path: Path) -> None:
    make_app(tmp_path / "apps", "one", "/one", "first")
    make_app(tmp_path / "apps", "two", "/two", "second")
    app = builder().with_system().with_apps(tmp_path / "apps").build()
    async with serve(app) as client:
        system = (await client.get("/api/v1/system")).json()
        assert set(system) == {"current_time", "timezone", "python_version", "platform", "hostname"}
        apps = (await client.get("/api/v1/system/apps")).json()
        assert sorted(entry["prefix"] for entry in apps) == ["/one", "/two"]
        assert (await client.get("/api/v1/system/apps/$schema")).json()["type"] == "array"
        assert "second" in (await client.get("/two/")).text
        assert get_app_manager() is app.state.app_manager


async def test_with_app_prefix_override_and_last_registration_wins(tmp_path: Path) -> None:
    first = make_app(tmp_path, "first", "/shared", "from first")
    second = make_app(tmp_path, "second", "/elsewhere", "from second")
    app = builder().with_app(first).with_app(second, prefix="/shared").build()
    async with serve(app) as client:
        assert "from second" in (await client.get("/shared/")).text
        assert [a.manifest.name for a in app.state.app_manager.list()] == ["second"]


async def test_api_routes_win_over_an_app_mounted_at_root(tmp_path: Path) -> None:
    app = builder().with_health().with_landing_page().build()
    async with serve(app) as client:
        assert (await client.get("/health")).json()["status"] == "healthy"
        assert (await client.get("/api/v1/info")).json()["display_name"] == "Test Service"
        landing = await client.get("/")
        assert landing.status_code == 200 and "text/html" in landing.headers["content-type"]


def test_bad_app_paths_fail_at_build_time(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        builder().with_app(tmp_path / "absent")
    with pytest.raises(ValueError):
        builder().with_app(make_app(tmp_path, "api", "/ok", "x"), prefix="/api/v2")


async def test_monitoring_serves_prometheus_text_with_http_metrics() -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the monitoring extra is not installed")
    app = builder().with_health().with_monitoring(service_name="svc").build()
    async with serve(app) as client:
        await client.get("/health")
        metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "http_server" in metrics.text
