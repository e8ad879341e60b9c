"""`chapkit worker`: refuses what it cannot serve with one clear line (its jobs are tested in tests/e2e)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from chapkit.domain.ports.scheduler import NO_QUEUE
from tests.cli.test_serve import CHAPKIT

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
