"""Smoke tests of the operations examples: API-key auth, monitoring, hosted static apps."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.examples.support import covers, serving


def check_keys(client: httpx.Client, good: list[str]) -> None:
    """Without a key or with a wrong one: 401 problem; with each good key: 200; open paths stay open."""
    refused = client.get("/api/v1/configs")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["status"] == 401 and refused.json()["detail"]
    assert client.get("/api/v1/configs", headers={"X-API-Key": "sk_wrong"}).status_code == 401
    for key in good:
        answer = client.get("/api/v1/configs", headers={"X-API-Key": key})
        assert answer.status_code == 200, answer.text
    created = client.post("/api/v1/configs", json={"name": "a", "data": {}}, headers={"X-API-Key": good[0]})
    assert created.status_code == 201, created.text
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200


@covers("auth")
def test_auth_with_keys_from_the_environment(tmp_path: Path) -> None:
    with serving("auth", tmp_path, CHAPKIT_API_KEYS=" sk_env_one , sk_env_two,") as client:
        check_keys(client, ["sk_env_one", "sk_env_two"])


@covers("auth")
def test_auth_with_keys_from_a_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# one key per line\nsk_file_one\n\nsk_file_two\n")
    with serving("auth", tmp_path, API_KEY_FILE=str(keys)) as client:
        check_keys(client, ["sk_file_one", "sk_file_two"])
        assert client.get("/api/v1/configs", headers={"X-API-Key": "# one key per line"}).status_code == 401
    log = (tmp_path / "service.log").read_text()
    assert "sk_file_one" not in log and "sk_file_two" not in log  # at most a 7-character prefix is logged


@covers("monitoring")
def test_monitoring_serves_prometheus_metrics(tmp_path: Path) -> None:
    pytest.importorskip("opentelemetry.exporter.prometheus", reason="needs the chapkit[monitoring] extra")
    with serving("monitoring", tmp_path) as client:
        health = client.get("/health").json()
        assert health["status"] == "healthy" and set(health["checks"]) == {"database", "disk"}
        system = client.get("/api/v1/system").json()
        assert {"current_time", "python_version", "platform", "hostname"} <= set(system)
        for _ in range(3):
            assert client.post("/api/v1/configs", json={"name": "m", "data": {}}).status_code == 201
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert "# TYPE" in metrics.text
        assert "/api/v1/configs" in metrics.text  # requests are counted per route


@covers("app_hosting")
def test_app_hosting_serves_the_dashboard_and_the_landing_page(tmp_path: Path) -> None:
    with serving("app_hosting", tmp_path) as client:
        index = client.get("/dashboard/")
        assert index.status_code == 200
        assert "text/html" in index.headers["content-type"]
        assert "<title>Config dashboard</title>" in index.text
        script = client.get("/dashboard/app.js")
        assert script.status_code == 200 and "/api/v1/configs" in script.text
        assert client.get("/dashboard/style.css").status_code == 200
        assert "text/html" in client.get("/").headers["content-type"]  # the landing page
        apps = {app["name"]: app["prefix"] for app in client.get("/api/v1/system/apps").json()}
        assert apps == {"Landing Page": "/", "Config dashboard": "/dashboard"}
