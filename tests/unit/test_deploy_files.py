"""The scale-out deployment (deploy/): compose file, image and service module, as docs/scale-out.md shows them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

yaml = pytest.importorskip("yaml")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_compose_runs_postgres_api_replicas_and_workers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"db", "api", "worker"}
    assert services["db"]["image"] == "postgres:16"
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])
    for name in ("api", "worker"):
        service = services[name]
        assert service["deploy"]["replicas"] == 2
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        environment = service["environment"]
        assert environment["CHAPKIT_JOBS_BACKEND"] == "procrastinate"
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert "@db:5432/" in environment["DATABASE_URL"]
    assert services["api"]["command"][:3] == ["chapkit", "serve", "service:app"]
    assert services["worker"]["command"][:3] == ["chapkit", "worker", "service:app"]
    assert "--graceful-timeout" in services["worker"]["command"]


def test_database_credentials_match(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]["environment"]
    url = compose["services"]["api"]["environment"]["DATABASE_URL"]
    assert url == f"postgresql+asyncpg://{db['POSTGRES_USER']}:{db['POSTGRES_PASSWORD']}@db:5432/{db['POSTGRES_DB']}"


def test_dockerfile_installs_the_distributed_extra_and_the_service() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install --no-cache-dir '.[distributed]'" in dockerfile
    assert "COPY deploy/service.py ./service.py" in dockerfile


def test_service_module_builds_its_app_on_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+asyncpg://chapkit:chapkit@db:5432/chapkit"
    monkeypatch.setenv("DATABASE_URL", url)
    spec = importlib.util.spec_from_file_location("deploy_service_under_test", DEPLOY / "service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    assert isinstance(module.app, FastAPI)
    assert module.app.state.database_url == url
    paths = set(module.app.openapi()["paths"])
    assert {"/api/v1/ml/$train", "/api/v1/ml/$predict", "/api/v1/jobs"} <= paths


def test_build_context_sends_only_what_the_image_copies() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "**" in ignored
    kept = {line[1:] for line in ignored if line.startswith("!")}
    assert kept == {"pyproject.toml", "README.md", "chapkit", "deploy/service.py"}
