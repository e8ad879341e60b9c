"""The bundled landing page (the console), served by a real server and rendered by headless Chromium (`--dump-dom`)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from chapkit.adapters.http import landing_page_app, mount_apps
from tests.e2e.browser import require_browser

INFO = {
    "display_name": "E2E Landing Service",
    "version": "9.8.7",
    "description": "Rendered <b>by</b> a browser",
    "author": "Ada",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def landing_service(*, with_info: bool = True) -> FastAPI:
    app = FastAPI()
    if with_info:

        @app.get("/api/v1/info")
        async def info() -> dict[str, str]:
            return INFO

    mount_apps(app, [landing_page_app()])
    return app


@pytest.fixture
def browser() -> str:
    return require_browser()


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], str]]:
    """Serve apps with uvicorn on free loopback ports in background threads; stopped after the test."""
    running: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: FastAPI) -> str:
        port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        running.append((server, thread))
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    try:
        yield start
    finally:
        for server, thread in running:
            server.should_exit = True
            thread.join(timeout=20)


def render(browser: str, url: str, profile: Path, *, offline: bool = False) -> str:
    """The DOM after the page's scripts ran (virtual time lets the fetch finish); `offline`: only 127.0.0.1 resolves."""
    offline_rules = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"] if offline else []
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        *offline_rules,
        "--dump-dom",
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_landing_page_renders_the_service_info(browser: str, serve: Callable[[FastAPI], str], tmp_path: Path) -> None:
    dom = render(browser, serve(landing_service()) + "/", tmp_path / "profile")
    assert '<h1 id="overview-title">E2E Landing Service</h1>' in dom
    assert "<title>E2E Landing Service · console</title>" in dom
    assert '<span id="service-version">9.8.7</span>' in dom
    # Metadata is written as text, never parsed as markup.
    assert "<p>Rendered &lt;b&gt;by&lt;/b&gt; a browser</p>" in dom
    assert "<dd>Ada</dd>" in dom
    assert 'href="/docs"' in dom
    assert 'id="service-error"' not in dom


def test_landing_page_reports_a_missing_info_endpoint(
    browser: str, serve: Callable[[FastAPI], str], tmp_path: Path
) -> None:
    dom = render(browser, serve(landing_service(with_info=False)) + "/", tmp_path / "profile")
    assert "Could not load the service information: Not Found" in dom
    assert 'id="service-error"' in dom


def test_docs_list_the_operations_with_the_network_off(
    browser: str, serve: Callable[[FastAPI], str], tmp_path: Path
) -> None:
    """Swagger UI renders from the service's own files: every other host is unreachable here."""
    from chapkit import BaseConfig, ServiceBuilder, ServiceInfo

    app = ServiceBuilder(info=ServiceInfo(display_name="Offline")).with_config(BaseConfig).build()
    base = serve(app)
    dom = render(browser, base + "/docs", tmp_path / "profile", offline=True)
    assert 'class="swagger-ui"' in dom
    assert "/api/v1/configs" in dom and "opblock" in dom  # the operations are listed


def auth_service() -> FastAPI:
    """A service that needs a key, plus a public test page that stores a key in the tab and opens `/`."""
    from fastapi import APIRouter
    from fastapi.responses import HTMLResponse

    from chapkit import BaseServiceBuilder, ServiceInfo

    pages = APIRouter()

    @pages.get("/set-key", include_in_schema=False)
    async def set_key() -> HTMLResponse:
        script = 'sessionStorage.setItem("chapkit-api-key", "sk-landing-page"); location.href = "/";'
        return HTMLResponse(f"<script>{script}</script>")

    builder = BaseServiceBuilder(info=ServiceInfo(display_name="Keyed Service", version="1.2.3"))
    builder = builder.with_landing_page().include_router(pages)
    return builder.with_auth(api_keys=["sk-landing-page"], unauthenticated_paths=["/", "/docs", "/set-key"]).build()


def test_landing_page_asks_for_a_key_when_the_service_needs_one(
    browser: str, serve: Callable[[FastAPI], str], tmp_path: Path
) -> None:
    base = serve(auth_service())
    dom = render(browser, base + "/", tmp_path / "profile")
    assert "This service needs an API key." in dom
    assert '<dialog id="key-dialog" aria-labelledby="key-reason" open=""' in dom
    assert "answered 401" not in dom
    keyed = render(browser, base + "/set-key", tmp_path / "profile-keyed")  # the key, kept in the tab
    assert '<h1 id="overview-title">Keyed Service</h1>' in keyed
    assert '<span id="service-version">1.2.3</span>' in keyed
    assert '<dialog id="key-dialog" aria-labelledby="key-reason">' in keyed
