"""One log line per request, whichever way a service is served: `python -m chapkit`, `chapkit serve`, `run_app`.

An app built `with_logging()` writes `http.request.complete` itself, so uvicorn's access line must stay off
in every serving process; an app without it keeps uvicorn's access line, its only one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.support.server import free_port, running_server

LOGGED_SERVICE = """
from chapkit.api import ServiceBuilder, ServiceInfo, run_app

app = ServiceBuilder(info=ServiceInfo(display_name="logged")).with_health().with_logging().build()

if __name__ == "__main__":
    import sys

    run_app(sys.argv[1] if len(sys.argv) > 1 else app)
"""

PLAIN_SERVICE = """
from chapkit.api import ServiceBuilder, ServiceInfo

app = ServiceBuilder(info=ServiceInfo(display_name="plain")).with_health().build()
"""


def _lines_for_one_request(command: list[str], directory: Path, port: int) -> list[str]:
    """Serve with `command`, send one request to a path of its own, and return the log lines naming it."""
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "info", "LOG_FORMAT": "json"}
    for name in ("CHAPKIT_DATABASE_URL", "DATABASE_URL", "WORKERS"):
        env.pop(name, None)
    path = f"/probe-{uuid4().hex}"
    with running_server(command, directory, env, port) as base:
        assert httpx.get(f"{base}{path}").status_code == 404
    return [line for line in (directory / "service.log").read_text().splitlines() if path in line]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-m", "chapkit"], id="python -m chapkit"),
        pytest.param([sys.executable, "-m", "chapkit", "serve", "logged_service:app"], id="chapkit serve module:app"),
        pytest.param([sys.executable, "-m", "chapkit", "serve", "--workers", "2", "logged_service:app"], id="workers"),
        pytest.param([sys.executable, "logged_service.py"], id="run_app(app)"),
        pytest.param([sys.executable, "logged_service.py", "logged_service:app"], id="run_app('module:app')"),
    ],
)
def test_an_app_that_logs_requests_logs_each_request_once(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "logged_service.py").write_text(LOGGED_SERVICE)
    lines = _lines_for_one_request(command, tmp_path, free_port())
    assert len(lines) == 1, lines
    assert "http.request.complete" in lines[0]


def test_an_app_without_request_logging_keeps_uvicorns_access_line(tmp_path: Path) -> None:
    (tmp_path / "plain_service.py").write_text(PLAIN_SERVICE)
    command = [sys.executable, "-m", "chapkit", "serve", "plain_service:app"]
    lines = _lines_for_one_request(command, tmp_path, free_port())
    assert len(lines) == 1, lines
    assert "http.request.complete" not in lines[0] and "404" in lines[0]
