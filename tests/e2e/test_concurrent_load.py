"""Two server processes on one SQLite file under concurrent writes, then a restart: nothing is lost."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_main_job import free_port, running_main_job

WRITES = 240
CONCURRENCY = 16


async def _post_configs(bases: list[str]) -> list[int]:
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=60) as client:

        async def post(n: int) -> int:
            async with limit:
                response = await client.post(
                    f"{bases[n % len(bases)]}/api/v1/configs", json={"name": f"config-{n}", "data": {"lags": n % 7}}
                )
                return response.status_code

        return await asyncio.gather(*(post(n) for n in range(WRITES)))


def _names(base: str) -> set[str]:
    return {config["name"] for config in httpx.get(f"{base}/api/v1/configs", timeout=30).json()}


@pytest.mark.slow
def test_two_processes_share_one_file_under_load_and_survive_a_restart(tmp_path: Path) -> None:
    expected = {f"config-{n}" for n in range(WRITES)}
    with ExitStack() as stack:
        bases = [stack.enter_context(running_main_job(tmp_path, free_port())) for _ in range(2)]
        statuses = asyncio.run(_post_configs(bases))
        assert statuses == [201] * WRITES
        for base in bases:  # each process sees every write, whichever process took it
            assert _names(base) == expected
    with running_main_job(tmp_path, free_port()) as base:
        assert _names(base) == expected
        assert httpx.get(f"{base}/health").json()["status"] == "healthy"
