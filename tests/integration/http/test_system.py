"""SystemRouter: host information, the installed apps and their JSON schema."""

from __future__ import annotations

import platform
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from chapkit.adapters.http import AppInfo, AppLoader, AppManager, SystemRouter, landing_page_app, mount_apps


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


def system_app(**kwargs: object) -> FastAPI:
    app = FastAPI()
    app.include_router(SystemRouter.create(prefix="/api/v1/system", tags=["Service"], **kwargs))
    return app


async def test_system_info_describes_the_host() -> None:
    async with client_for(system_app()) as client:
        response = await client.get("/api/v1/system")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"current_time", "timezone", "python_version", "platform", "hostname"}
    now = datetime.fromisoformat(body["current_time"])
    assert now.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - now) < timedelta(seconds=30)
    assert body["python_version"] == ".".join(str(part) for part in sys.version_info[:3])
    assert body["python_version"].startswith("3.")
    assert body["platform"] == platform.platform()
    assert body["hostname"] == platform.node()
    assert body["timezone"]


async def test_apps_list_is_empty_without_mounted_apps() -> None:
    async with client_for(system_app()) as client:
        response = await client.get("/api/v1/system/apps")
    assert (response.status_code, response.json()) == (200, [])


async def test_apps_list_shows_mounted_apps(tmp_path: Path) -> None:
    directory = tmp_path / "dash"
    directory.mkdir()
    (directory / "manifest.json").write_text(
        '{"name": "Dash", "version": "2.1.0", "prefix": "/dash", "author": "Ann", "entry": "main.html"}'
    )
    (directory / "main.html").write_text("<p>dash</p>")
    app = system_app()
    mount_apps(app, [landing_page_app(), AppLoader.load(directory)])
    async with client_for(app) as client:
        response = await client.get("/api/v1/system/apps")
    assert response.status_code == 200
    assert response.json() == [
        {
            "name": "Landing Page",
            "version": "2.0.0",
            "prefix": "/",
            "description": landing_page_app().manifest.description,
            "author": "chapkit",
            "entry": "index.html",
            "is_package": True,
        },
        {
            "name": "Dash",
            "version": "2.1.0",
            "prefix": "/dash",
            "description": None,
            "author": "Ann",
            "entry": "main.html",
            "is_package": False,
        },
    ]


async def test_apps_come_from_the_given_manager_dependency(tmp_path: Path) -> None:
    manager = AppManager([landing_page_app()])
    app = system_app(app_manager_factory=lambda: manager)
    async with client_for(app) as client:
        response = await client.get("/api/v1/system/apps")
    assert [item["prefix"] for item in response.json()] == ["/"]


async def test_apps_schema_is_the_list_schema() -> None:
    async with client_for(system_app()) as client:
        response = await client.get("/api/v1/system/apps/$schema")
    assert response.status_code == 200
    schema = response.json()
    assert schema["type"] == "array"
    item = schema["$defs"]["AppInfo"]
    assert set(item["required"]) == {"name", "version", "prefix", "entry", "is_package"}
    assert set(item["properties"]) == set(AppInfo.model_fields)


async def test_routes_are_documented_under_the_prefix_and_tags() -> None:
    app = system_app()
    async with client_for(app) as client:
        document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    assert {"/api/v1/system", "/api/v1/system/apps", "/api/v1/system/apps/$schema"} <= set(paths)
    assert paths["/api/v1/system"]["get"]["tags"] == ["Service"]
    assert "SystemInfo" in document["components"]["schemas"]
