"""Static apps: manifest rules, loading from directories and packages, mounting behind the API routes."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
from fastapi import FastAPI
from starlette.types import Scope
from structlog.testing import capture_logs

from chapkit.adapters.http import (
    App,
    AppInfo,
    AppLoader,
    AppManager,
    AppManifest,
    deduplicate_apps,
    is_public_app_path,
    landing_page_app,
    mount_apps,
    serving_app,
)


def write_app(root: Path, name: str, *, prefix: str, entry: str = "index.html", body: str | None = None) -> Path:
    """Write an app directory with a manifest and its entry file."""
    directory = root / name
    (directory / Path(entry).parent).mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": "1.0.0", "prefix": prefix, "entry": entry, "description": f"{name} app"}
    (directory / "manifest.json").write_text(json.dumps(manifest))
    (directory / entry).write_text(body if body is not None else f"<h1>{name}</h1>")
    return directory


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
def package_root(tmp_path: Path) -> Iterator[Path]:
    """An importable package `apps_pkg` with apps under `static/`, and a sibling directory outside it."""
    package = tmp_path / "site" / "apps_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    write_app(package / "static", "one", prefix="/one")
    write_app(package / "static", "two", prefix="/two")
    write_app(tmp_path / "site", "outside", prefix="/outside")
    sys.path.insert(0, str(tmp_path / "site"))
    try:
        yield package
    finally:
        sys.path.remove(str(tmp_path / "site"))
        sys.modules.pop("apps_pkg", None)


# ---------------------------------------------------------------- manifest


def manifest(**overrides: Any) -> AppManifest:
    fields: dict[str, Any] = {"name": "x", "version": "1.0.0", "prefix": "/x"}
    fields.update(overrides)
    return AppManifest(**fields)


@pytest.mark.parametrize("prefix", ["/", "/dashboard", "/tools/viewer", "/apis", "/apiary/x"])
def test_manifest_accepts_valid_prefixes(prefix: str) -> None:
    assert manifest(prefix=prefix).prefix == prefix


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("dashboard", "must start with '/'"),
        ("/a/../b", "cannot contain '..'"),
        ("/api", "cannot be '/api'"),
        ("/api/", "cannot be '/api'"),
        ("/api/v1/dash", "cannot be '/api'"),
    ],
)
def test_manifest_rejects_bad_prefixes(prefix: str, message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        manifest(prefix=prefix)


@pytest.mark.parametrize("entry", ["index.html", "app.html", "dist/index.html"])
def test_manifest_accepts_relative_entries(entry: str) -> None:
    assert manifest(entry=entry).entry == entry


@pytest.mark.parametrize(
    "entry", ["../secret.html", "a/../../b.html", "/etc/passwd", "\\x.html", "", "dist/", "a//b.html"]
)
def test_manifest_rejects_entries_outside_the_app(entry: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        manifest(entry=entry)


def test_manifest_forbids_unknown_fields_and_defaults_entry() -> None:
    assert manifest().entry == "index.html"
    with pytest.raises(pydantic.ValidationError, match="Extra inputs"):
        manifest(homepage="x")


# ---------------------------------------------------------------- loading


def test_load_from_directory(tmp_path: Path) -> None:
    directory = write_app(tmp_path, "dash", prefix="/dash")
    app = AppLoader.load(directory)
    assert (app.prefix, app.manifest.name, app.is_package, app.directory) == ("/dash", "dash", False, directory)
    assert AppLoader.load(str(directory)).directory == directory


def test_load_with_prefix_override_is_validated(tmp_path: Path) -> None:
    directory = write_app(tmp_path, "dash", prefix="/dash")
    assert AppLoader.load(directory, prefix="/other").prefix == "/other"
    with pytest.raises(pydantic.ValidationError):
        AppLoader.load(directory, prefix="/api/v1/x")


def test_load_reports_missing_pieces(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="App directory not found"):
        AppLoader.load(tmp_path / "missing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(NotADirectoryError):
        AppLoader.load(tmp_path / "file.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"manifest\.json not found"):
        AppLoader.load(tmp_path / "empty")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="Invalid JSON"):
        AppLoader.load(broken)
    (broken / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="JSON object"):
        AppLoader.load(broken)
    no_entry = write_app(tmp_path, "noentry", prefix="/n")
    (no_entry / "index.html").unlink()
    with pytest.raises(FileNotFoundError, match=r"Entry file 'index\.html' not found"):
        AppLoader.load(no_entry)


def test_load_rejects_an_entry_that_links_outside_the_app(tmp_path: Path) -> None:
    (tmp_path / "secret.html").write_text("secret")
    directory = write_app(tmp_path, "linked", prefix="/l", entry="page.html")
    (directory / "page.html").unlink()
    (directory / "page.html").symlink_to(tmp_path / "secret.html")
    with pytest.raises(FileNotFoundError, match="Entry file"):
        AppLoader.load(directory)


def test_load_from_package_tuple(package_root: Path) -> None:
    app = AppLoader.load(("apps_pkg", "static/one"))
    assert (app.prefix, app.is_package, app.directory) == ("/one", True, (package_root / "static" / "one").resolve())


@pytest.mark.parametrize(
    ("subpath", "error", "message"),
    [
        ("../outside", ValueError, "cannot contain '..'"),
        ("static/../../outside", ValueError, "cannot contain '..'"),
        ("/static/one", ValueError, "must be relative"),
        ("static/missing", FileNotFoundError, "not found in package"),
        ("__init__.py", NotADirectoryError, "is not a directory"),
    ],
)
def test_package_tuples_cannot_escape_the_package(
    package_root: Path, subpath: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        AppLoader.load(("apps_pkg", subpath))


def test_package_tuple_through_a_symlink_out_of_the_package_is_rejected(package_root: Path) -> None:
    (package_root / "escape").symlink_to(package_root.parent / "outside")
    with pytest.raises(ValueError, match="escapes package directory"):
        AppLoader.load(("apps_pkg", "escape"))


def test_unknown_package_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="could not be found"):
        AppLoader.load(("no_such_package_here", "apps"))
    with pytest.raises(ValueError, match="could not be found"):
        AppLoader.load(("no_such_package_here.sub", "apps"))


def test_discover_directory_skips_broken_apps(tmp_path: Path) -> None:
    write_app(tmp_path, "b_second", prefix="/second")
    write_app(tmp_path, "a_first", prefix="/first")
    write_app(tmp_path, "c_bad", prefix="/api/bad")
    (tmp_path / "not_an_app").mkdir()
    (tmp_path / "stray.txt").write_text("x")
    with capture_logs() as logs:
        apps = AppLoader.discover(tmp_path)
    assert [app.prefix for app in apps] == ["/first", "/second"]
    failures = [log for log in logs if log["event"] == "app.discovery.failed"]
    assert [Path(log["directory"]).name for log in failures] == ["c_bad"]
    assert failures[0]["log_level"] == "warning"


def test_discover_package_tuple(package_root: Path) -> None:
    apps = AppLoader.discover(("apps_pkg", "static"))
    assert [(app.prefix, app.is_package) for app in apps] == [("/one", True), ("/two", True)]


def test_discover_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Apps directory not found"):
        AppLoader.discover(tmp_path / "nope")


def test_landing_page_is_bundled_package_data() -> None:
    app = landing_page_app()
    assert (app.prefix, app.manifest.entry, app.is_package) == ("/", "index.html", True)
    assert 'src="app.js"' in (app.directory / "index.html").read_text()
    assert "/api/v1/info" in (app.directory / "app.js").read_text()


# ---------------------------------------------------------------- manager and info


def test_app_manager_lists_and_gets_by_prefix(tmp_path: Path) -> None:
    first = AppLoader.load(write_app(tmp_path, "first", prefix="/first"))
    second = AppLoader.load(write_app(tmp_path, "second", prefix="/second"))
    manager = AppManager([first, second])
    assert manager.list() == [first, second]
    assert manager.get("/second") is second
    assert manager.get("/third") is None
    info = AppInfo.from_app(first)
    assert info.model_dump() == {
        "name": "first",
        "version": "1.0.0",
        "prefix": "/first",
        "description": "first app",
        "author": None,
        "entry": "index.html",
        "is_package": False,
    }


# ---------------------------------------------------------------- mounting


@pytest.fixture
def api() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/info")
    async def info() -> dict[str, str]:
        return {"display_name": "Mounted"}

    @app.get("/dash/data")
    async def dash_data() -> dict[str, str]:
        return {"from": "api"}

    return app


@pytest.fixture
async def mounted(api: FastAPI, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    root = write_app(tmp_path, "root", prefix="/", body="<p>root page</p>")
    (root / "data").write_text("file shadowed by nothing")
    dash = write_app(tmp_path, "dash", prefix="/dash", entry="main.html", body="<p>dash main</p>")
    (dash / "data").write_text("file shadowed by the API route")
    (dash / "index.html").write_text("<p>not the entry</p>")
    (dash / "assets").mkdir()
    (dash / "assets" / "app.js").write_text("console.log(1)")
    mount_apps(api, [AppLoader.load(root), AppLoader.load(dash)])
    async with client_for(api) as client:
        yield client


async def test_entry_served_at_prefix_root(mounted: httpx.AsyncClient) -> None:
    root = await mounted.get("/")
    assert (root.status_code, root.text) == (200, "<p>root page</p>")
    assert root.headers["content-type"].startswith("text/html")
    dash = await mounted.get("/dash/")
    assert (dash.status_code, dash.text) == (200, "<p>dash main</p>")
    redirect = await mounted.get("/dash")
    assert redirect.status_code in (307, 308)
    assert (await mounted.get("/dash", follow_redirects=True)).text == "<p>dash main</p>"
    assert (await mounted.get("/dash/assets/app.js")).text == "console.log(1)"


async def test_api_routes_win_over_apps(mounted: httpx.AsyncClient) -> None:
    assert (await mounted.get("/api/v1/info")).json() == {"display_name": "Mounted"}
    assert (await mounted.get("/dash/data")).json() == {"from": "api"}
    assert (await mounted.get("/data")).text == "file shadowed by nothing"


async def test_unknown_files_and_traversal_are_404(mounted: httpx.AsyncClient, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    assert (await mounted.get("/dash/missing.js")).status_code == 404
    assert (await mounted.get("/api/v1/unknown")).status_code == 404
    escaped = await mounted.get("/dash/..%2F..%2Fsecret.txt")
    assert escaped.status_code == 404
    assert "secret" not in escaped.text


async def test_writes_to_app_files_are_405(mounted: httpx.AsyncClient) -> None:
    assert (await mounted.post("/dash/assets/app.js")).status_code == 405


async def test_same_prefix_twice_last_wins_with_warning(api: FastAPI, tmp_path: Path) -> None:
    first = AppLoader.load(write_app(tmp_path, "first", prefix="/", body="first"))
    other = AppLoader.load(write_app(tmp_path, "other", prefix="/other", body="other"))
    second = AppLoader.load(write_app(tmp_path, "second", prefix="/", body="second"))
    with capture_logs() as logs:
        mount_apps(api, [first, other, second])
    overrides = [log for log in logs if log["event"] == "app.prefix.override"]
    assert [(o["log_level"], o["prefix"], o["replaced_app"], o["new_app"]) for o in overrides] == [
        ("warning", "/", "first", "second")
    ]
    assert [app.manifest.name for app in api.state.app_manager.list()] == ["other", "second"]
    async with client_for(api) as client:
        assert (await client.get("/")).text == "second"
        assert (await client.get("/other/")).text == "other"


def test_deduplicate_keeps_order_of_last_occurrences(tmp_path: Path) -> None:
    a = AppLoader.load(write_app(tmp_path, "a", prefix="/a"))
    b = AppLoader.load(write_app(tmp_path, "b", prefix="/b"))
    a2 = AppLoader.load(write_app(tmp_path, "a2", prefix="/a"))
    assert [app.manifest.name for app in deduplicate_apps([a, b, a2])] == ["b", "a2"]
    assert deduplicate_apps([]) == []


# ---------------------------------------------------------------- which requests an app serves (D19)


def http_scope(app: FastAPI, path: str, method: str = "GET") -> Scope:
    return {
        "type": "http",
        "app": app,
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


async def test_serving_app_resolves_like_the_router(mounted: httpx.AsyncClient, api: FastAPI) -> None:
    def served(path: str) -> str | None:
        app: App | None = serving_app(http_scope(api, path))
        return app.manifest.name if app else None

    assert served("/") == "root"
    assert served("/anything.css") == "root"
    assert served("/dash/assets/app.js") == "dash"
    assert served("/dash/data") is None
    assert served("/api/v1/info") is None
    assert served("/api/v1/unknown") == "root"


async def test_public_app_paths_follow_the_unauthenticated_prefixes(mounted: httpx.AsyncClient, api: FastAPI) -> None:
    public = {"/", "/docs", "/health"}
    assert is_public_app_path(http_scope(api, "/"), public)
    assert is_public_app_path(http_scope(api, "/style.css"), public)
    assert not is_public_app_path(http_scope(api, "/api/v1/info"), public)
    # The root app answers unknown API paths with its 404, but they are not public: no probing without a key.
    assert serving_app(http_scope(api, "/api/v1/unknown")) is not None
    assert not is_public_app_path(http_scope(api, "/api/v1/unknown"), public)
    assert not is_public_app_path(http_scope(api, "/api"), public)
    assert not is_public_app_path(http_scope(api, "/dash/assets/app.js"), public)
    assert is_public_app_path(http_scope(api, "/dash/assets/app.js"), {"/dash"})
    assert not is_public_app_path(http_scope(api, "/dash/data"), {"/dash"})
    assert not is_public_app_path(http_scope(FastAPI(), "/"), public)


async def test_prefix_with_trailing_slash_and_nested_entry(tmp_path: Path) -> None:
    api = FastAPI()
    viewer = AppLoader.load(write_app(tmp_path, "viewer", prefix="/viewer/", entry="dist/app.html", body="viewer"))
    mount_apps(api, [viewer])
    async with client_for(api) as client:
        assert (await client.get("/viewer/")).text == "viewer"
        assert (await client.get("/viewer", follow_redirects=True)).text == "viewer"
        assert (await client.get("/viewer/dist/app.html")).text == "viewer"
        assert (await client.head("/viewer/")).status_code == 200
    assert api.state.app_manager.get("/viewer/") is viewer
