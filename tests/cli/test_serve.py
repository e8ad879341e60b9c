"""`chapkit serve`, `chapkit demo` and `python -m chapkit` as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.test_main_job import free_port, running_server
from tests.integration.http.registration_support import eventually, orchestrator, served
from tests.support.blocked_imports import chapkit_without

CHAPKIT = [sys.executable, "-m", "chapkit"]


def _env(port: int, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning", **extra}
    for name in ("CHAPKIT_DATABASE_URL", "DATABASE_URL"):
        env.pop(name, None)
    return {**env, **extra}


def test_help_prints_help_and_starts_nothing(tmp_path: Path) -> None:
    for args in (["--help"], ["serve", "--help"], ["demo", "--help"]):
        result = subprocess.run([*CHAPKIT, *args], cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout
    assert list(tmp_path.iterdir()) == []  # no chapkit.db: nothing was served


def test_serve_names_a_module_that_cannot_be_imported(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CHAPKIT, "serve", "no_such_service:app"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "no_such_service" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_serve_names_a_module_that_fails_on_import(tmp_path: Path) -> None:
    (tmp_path / "broken_service.py").write_text("raise RuntimeError('no config file')\n")
    result = subprocess.run(
        [*CHAPKIT, "serve", "broken_service:app"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "broken_service" in result.stderr and "no config file" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_names_a_missing_attribute(tmp_path: Path) -> None:
    (tmp_path / "empty_service.py").write_text('"""Nothing here."""\n')
    result = subprocess.run(
        [*CHAPKIT, "serve", "empty_service:app"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "empty_service" in result.stderr and "app" in result.stderr


SERVICE = """
import os

from chapkit.api import ServiceBuilder, ServiceInfo


def build():
    return (
        ServiceBuilder(info=ServiceInfo(display_name="mine"))
        .with_health()
        .with_database(os.environ["DATABASE_URL"])
        .build()
    )
"""


def test_serve_runs_a_module_factory_with_options_and_database(tmp_path: Path) -> None:
    (tmp_path / "my_service.py").write_text(SERVICE)
    port = free_port()
    command = [*CHAPKIT, "serve", "my_service:build", "--factory", "--port", str(port), "--database"]
    command.append("sqlite+aiosqlite:///mine.db")
    with running_server(command, tmp_path, _env(free_port()), port) as base:
        assert httpx.get(f"{base}/health").json()["status"] == "healthy"
    assert (tmp_path / "mine.db").is_file()


MODULE_LEVEL_SERVICE = """
import os

from chapkit.api import ServiceBuilder, ServiceInfo

app = (
    ServiceBuilder(info=ServiceInfo(display_name="module level"))
    .with_health()
    .with_database(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///:memory:"))
    .build()
)
"""


def test_serve_gives_database_to_a_module_level_app_that_reads_it_on_import(tmp_path: Path) -> None:
    (tmp_path / "level_service.py").write_text(MODULE_LEVEL_SERVICE)
    port = free_port()
    command = [*CHAPKIT, "serve", "level_service:app", "--port", str(port), "--database", "sqlite+aiosqlite:///lvl.db"]
    with running_server(command, tmp_path, _env(free_port()), port) as base:
        assert httpx.get(f"{base}/health").json()["status"] == "healthy"
    assert (tmp_path / "lvl.db").is_file()


def test_demo_serves_the_main_job_on_the_database_from_the_environment(tmp_path: Path) -> None:
    port = free_port()
    env = _env(port, DATABASE_URL="sqlite+aiosqlite:///from_env.db")
    with running_server([*CHAPKIT, "demo"], tmp_path, env, port) as base:
        assert httpx.get(f"{base}/api/v1/info").json()["display_name"] == "chapkit"
    assert (tmp_path / "from_env.db").is_file() and not (tmp_path / "chapkit.db").exists()


def test_serve_without_an_app_serves_the_main_job(tmp_path: Path) -> None:
    port = free_port()
    with running_server([*CHAPKIT, "serve", "--host", "127.0.0.1"], tmp_path, _env(port), port) as base:
        assert httpx.get(f"{base}/api/v1/info").json()["required_covariates"] == ["rainfall", "mean_temperature"]
    assert (tmp_path / "chapkit.db").is_file()


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("chapkit")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "serve" in result.stdout


REGISTERED_SERVICE = """
from chapkit.api import MLServiceInfo, ServiceBuilder

app = ServiceBuilder(info=MLServiceInfo(display_name="Two workers")).with_health().build()
"""


def test_serve_register_registers_once_however_many_workers_and_deregisters_on_stop(tmp_path: Path) -> None:
    (tmp_path / "two_workers.py").write_text(REGISTERED_SERVICE)
    chap, registry = orchestrator(ttl=1)
    with served(chap) as chap_port:
        register_url = f"http://127.0.0.1:{chap_port}/v2/services/$register"
        port = free_port()
        command = [*CHAPKIT, "serve", "two_workers:app", "--port", str(port), "--workers", "2"]
        env = _env(port, LOG_LEVEL="info", SERVICEKIT_HOST="127.0.0.1", TMPDIR=str(tmp_path))
        with running_server([*command, "--register", register_url], tmp_path, env, port):
            log = tmp_path / "service.log"
            # Both workers are up; one registered and pings, the other stands by (it found the lock taken).
            eventually(lambda: "registration.standby" in log.read_text() and len(registry.pings) >= 3)
            assert log.read_text().count("info.chap_core") == 2  # each worker's start-up warned (no GIT_REVISION)
            assert [body["url"] for body in registry.registrations] == [f"http://127.0.0.1:{port}"]
            assert registry.registrations[0]["info"]["id"] == "two-workers"
            assert list(tmp_path.glob("chapkit-registration-*.lock"))
        assert registry.deletes == ["two-workers"] and registry.live == {}
        assert len(registry.registrations) == 1


def test_serve_without_the_driver_of_its_database_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    """A postgresql:// service without asyncpg stops at start-up with the pip install, not a traceback."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            chapkit_without("asyncpg"),
            "serve",
            "--database",
            "postgresql://nobody@127.0.0.1:9/none",
        ],
        cwd=tmp_path,
        env=_env(free_port()),
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "pip install 'chapkit[postgres]'" in output, output
    assert "Traceback" not in output and len(output.strip().splitlines()) <= 3, output
