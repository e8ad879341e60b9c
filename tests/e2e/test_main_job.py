"""`python -m chapkit` starts a real service on an SQLite file in the working directory."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.server import free_port, running_server


@contextmanager
def running_main_job(directory: Path, port: int, **extra_env: str) -> Iterator[str]:
    """Run `python -m chapkit` in `directory` until the block ends; yield its base URL once healthy."""
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning", **extra_env}
    env.pop("CHAPKIT_DATABASE_URL", None)
    with running_server([sys.executable, "-m", "chapkit"], directory, env, port) as base:
        yield base


def test_main_job_serves_a_service_on_an_sqlite_file(tmp_path: Path) -> None:
    with running_main_job(tmp_path, free_port()) as base:
        assert httpx.get(f"{base}/health").json() == {"status": "healthy", "checks": {"database": {"state": "healthy"}}}
        info = httpx.get(f"{base}/api/v1/info").json()
        assert info["display_name"] == "chapkit" and info["required_covariates"] == ["rainfall", "mean_temperature"]
        assert "text/html" in httpx.get(f"{base}/").headers["content-type"]
        assert httpx.get(f"{base}/docs").status_code == 200
        created = httpx.post(f"{base}/api/v1/notes", json={"text": "hello"})
        assert created.status_code == 201
        assert httpx.get(created.headers["location"]).json()["text"] == "hello"
        assert httpx.get(f"{base}/api/v1/jobs").json() == []
        config = httpx.post(f"{base}/api/v1/configs", json={"name": "monthly", "data": {"ridge": 0.5}})
        assert config.status_code == 201
        assert config.json()["data"] == {"features": ["rainfall", "mean_temperature"], "ridge": 0.5, "samples": 100}
        paths = httpx.get(f"{base}/openapi.json").json()["paths"]
        assert {"/api/v1/ml/$train", "/api/v1/ml/$predict", "/api/v1/ml/$validate"} <= set(paths)
        assert (tmp_path / "chapkit.db").is_file()


@pytest.mark.slow
def test_main_job_with_two_workers_shares_one_file(tmp_path: Path) -> None:
    """WORKERS=2: two processes serve one SQLite file; every write is seen by whichever answers."""

    async def post_all(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            limit = asyncio.Semaphore(16)

            async def post(n: int) -> int:
                async with limit:
                    return (await client.post("/api/v1/configs", json={"name": f"c{n}", "data": {}})).status_code

            return await asyncio.gather(*(post(n) for n in range(120)))

    with running_main_job(tmp_path, free_port(), WORKERS="2") as base:
        assert asyncio.run(post_all(base)) == [201] * 120
        for _ in range(4):  # several connections, likely served by both workers
            names = {config["name"] for config in httpx.get(f"{base}/api/v1/configs", timeout=30).json()}
            assert names == {f"c{n}" for n in range(120)}
    log = (tmp_path / "service.log").read_text()
    assert log.count("app.mounted") == 2, log[-2000:]  # each worker process built the app
