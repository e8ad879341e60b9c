"""`chapkit worker`: refuses what it cannot serve with one clear line (its jobs are tested in tests/e2e)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chapkit.domain.ports.scheduler import NO_QUEUE
from tests.cli.test_serve import CHAPKIT
from tests.conftest import fresh_postgres_database
from tests.support.blocked_imports import chapkit_without

IN_PROCESS_SERVICE = """
from chapkit import ServiceBuilder, ServiceInfo

app = ServiceBuilder(info=ServiceInfo(display_name="in process")).with_jobs(backend="asyncio").build()
"""


def _worker(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAPKIT_")}
    return subprocess.run(
        [*CHAPKIT, "worker", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_worker_help_names_its_options(tmp_path: Path) -> None:
    result = _worker(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    for option in ("--concurrency", "--queue", "--graceful-timeout", "--database", "--factory"):
        assert option in result.stdout


def test_a_worker_of_a_service_that_runs_jobs_in_process_says_how_to_distribute_them(tmp_path: Path) -> None:
    (tmp_path / "local_service.py").write_text(IN_PROCESS_SERVICE)
    result = _worker(tmp_path, "local_service:app")
    assert result.returncode == 2
    assert NO_QUEUE in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_a_worker_names_a_module_that_cannot_be_imported(tmp_path: Path) -> None:
    result = _worker(tmp_path, "no_such_service:app")
    assert result.returncode == 2
    assert "no_such_service" in result.stderr


DISTRIBUTED_SERVICE = """
import os

from chapkit import ServiceBuilder, ServiceInfo

app = ServiceBuilder(info=ServiceInfo(display_name="queued")).with_database(os.environ["SERVICE_URL"]).with_jobs(
    backend="procrastinate"
).build()
"""


@pytest.mark.postgres
def test_a_worker_without_the_distributed_extra_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "queued_service.py").write_text(DISTRIBUTED_SERVICE)
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAPKIT_")}
    with fresh_postgres_database() as url:
        result = subprocess.run(
            [sys.executable, "-c", chapkit_without("procrastinate"), "worker", "queued_service:app"],
            cwd=tmp_path,
            env={**env, "SERVICE_URL": url},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: The distributed job backend needs the 'distributed' extra: pip install 'chapkit[distributed]' "
        "(missing module: procrastinate)"
    ]
