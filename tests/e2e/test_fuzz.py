"""Schemathesis over whole APIs: no server error, every response as documented (D20).

Bounded: a fixed number of examples per operation and a time limit; the never-ending SSE streams are
excluded. Runs against real server processes on loopback: the main job, and a `ServiceBuilder`
service with every module (configs, artifacts, jobs, health, system, info, a custom entity).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import fresh_postgres_database
from tests.e2e.fuzz_service import DATABASE_URL_ENV
from tests.e2e.test_main_job import free_port, running_main_job, running_server

MAX_EXAMPLES = "40"
# A fixed seed keeps CI reproducible; set CHAPKIT_FUZZ_SEED to another number to explore further.
SEED = os.environ.get("CHAPKIT_FUZZ_SEED", "20261126")
TIME_LIMIT_SECONDS = 240
REPOSITORY = Path(__file__).resolve().parents[2]

# Rules the schema cannot express (a parent or linked artifact must exist, be a root, be linked to
# this config; a download `format` is for tables only) are answered 400; for these operations that
# is a valid answer to schema-valid input.
REFERENTIAL_OPERATIONS = (
    "POST /api/v1/artifacts",
    "PUT /api/v1/artifacts/{entity_id}",
    "POST /api/v1/configs/{entity_id}/$link-artifact",
    "POST /api/v1/configs/{entity_id}/$unlink-artifact",
    "GET /api/v1/artifacts/{entity_id}/$download",
)
ACCEPTED_STATUSES = '["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]'
# `$train` and `$predict` refuse schema-valid input that breaks what the service requires of it (an empty
# frame, a missing covariate) with a 422 problem naming the field (issue 10).
ML_OPERATIONS = ("POST /api/v1/ml/$train", "POST /api/v1/ml/$predict", "POST /api/v1/ml/$validate")
ML_ACCEPTED_STATUSES = '["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]'
# An artifact whose tree has no config answers `$config` with 404 (D17) although the artifact exists,
# and the stateful phase takes that for a created resource gone missing; its checks are not
# configurable per operation, so the check is off for the full service (POST-then-GET is covered by
# the integration tests and by the main job's run, which keeps it).
FULL_SERVICE_OPTIONS = ["--exclude-checks", "ensure_resource_availability"]


def schemathesis_config(*, text_without_nul: bool = False) -> str:
    """Per-operation allowances; with `text_without_nul` (PostgreSQL), a 400 is a valid answer everywhere.

    PostgreSQL cannot store NUL characters in text: chapkit answers such input with a 400
    `validation-failed` problem, while the schema (any string) calls it valid.
    """
    if text_without_nul:
        return f"[checks.positive_data_acceptance]\nexpected-statuses = {ACCEPTED_STATUSES}\n"
    blocks = []
    for name in REFERENTIAL_OPERATIONS:
        block = f'[[operations]]\ninclude-name = "{name}"\n'
        blocks.append(block + f"checks.positive_data_acceptance.expected-statuses = {ACCEPTED_STATUSES}\n")
    for name in ML_OPERATIONS:
        block = f'[[operations]]\ninclude-name = "{name}"\n'
        blocks.append(block + f"checks.positive_data_acceptance.expected-statuses = {ML_ACCEPTED_STATUSES}\n")
    return "\n".join(blocks)


def run_schemathesis(
    base: str, directory: Path, *, full_service: bool, text_without_nul: bool = False
) -> subprocess.CompletedProcess[str]:
    (directory / "schemathesis.toml").write_text(schemathesis_config(text_without_nul=text_without_nul))
    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--exclude-path-regex",
            r".*/\$stream$",
            "--request-timeout",
            "10",
            "--no-color",
            "--seed",
            SEED,
            # NUL in text is refused (400) on every route and storage (D25); no JSON schema says so.
            "--generation-allow-x00",
            "false",
            *(FULL_SERVICE_OPTIONS if full_service else []),
        ],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_SECONDS,
        check=False,
    )


@contextmanager
def running_fuzz_service(directory: Path, database_url: str) -> Iterator[str]:
    """Serve `tests.e2e.fuzz_service` with uvicorn until the block ends; yield its base URL once healthy."""
    port = free_port()
    env = {**os.environ, DATABASE_URL_ENV: database_url, "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-m", "uvicorn", "tests.e2e.fuzz_service:build_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with running_server(command, directory, env, port) as base:
        yield base


def test_schemathesis_finds_no_failure_in_the_main_job(tmp_path: Path) -> None:
    with running_main_job(tmp_path, free_port()) as base:
        result = run_schemathesis(base, tmp_path, full_service=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


@pytest.fixture(params=["memory", "sqlite_file", "postgres"])
def fuzz_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where the full service stores: a database of its own, as the fuzzer leaves data behind."""
    if request.param == "memory":
        yield "memory://"
    elif request.param == "sqlite_file":
        yield f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


def test_schemathesis_finds_no_failure_in_a_full_service(tmp_path: Path, fuzz_database_url: str) -> None:
    with running_fuzz_service(tmp_path, fuzz_database_url) as base:
        result = run_schemathesis(
            base, tmp_path, full_service=True, text_without_nul=fuzz_database_url.startswith("postgresql")
        )
    log = (tmp_path / "service.log").read_text()
    assert result.returncode == 0, result.stdout[-8000:] + log[-3000:]
    assert "Internal Server Error" not in log and "database.error" not in log, log[-3000:]
