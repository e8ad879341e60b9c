"""Job records and SSE streams while other processes keep every core busy (CI shares 2 cores).

Two races showed only under load: after `wait`, a listing missed jobs just waited on (on SQLite
`:memory:` a reader's rollback undid the write-behind's uncommitted inserts on the one shared
connection), and a `$stream` never delivered its terminal event (its terminal record was among those
lost writes). Both run here, repeatedly, beside spinning processes; each round is bounded in time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chapkit import get_scheduler
from tests.integration.http.conftest import builder, serve
from tests.support.load import cpu_spinners

ROUNDS = 8
SPINNERS = 3
ROUND_LIMIT_SECONDS = 30


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    """A few processes spinning on every core until the test ends."""
    with cpu_spinners(SPINNERS):
        yield


async def _value(value: int) -> int:
    await asyncio.sleep(0)
    return value


async def _gated(gate: asyncio.Event) -> str:
    await gate.wait()
    return "done"


@pytest.mark.parametrize("url", ["sqlite+aiosqlite:///:memory:", "memory://"])
async def test_waited_jobs_are_listed_and_streams_end_under_load(busy_cpu: None, url: str) -> None:
    async with serve(builder(url, include_logging=False).with_jobs(max_concurrency=4).build()) as client:
        scheduler = get_scheduler()
        for round_ in range(ROUNDS):
            async with asyncio.timeout(ROUND_LIMIT_SECONDS):
                ids = [await scheduler.add_job(_value, n) for n in range(5)]
                for job_id in ids:
                    await scheduler.wait(job_id)
                listed = {record.id for record in await scheduler.get_all_records()}
                assert set(ids) <= listed, f"round {round_}: {len(set(ids) - listed)} waited jobs not listed"
                for job_id in ids:
                    assert (await scheduler.get_record(job_id)).status == "completed"

                gate = asyncio.Event()
                streamed = await scheduler.add_job(_gated, gate)
                asyncio.get_running_loop().call_later(0.05, gate.set)
                response = await client.get(f"/api/v1/jobs/{streamed}/$stream", params={"poll_interval": 0.01})
                events: list[Any] = [
                    json.loads(chunk.removeprefix("data: ")) for chunk in response.text.split("\n\n")[:-1]
                ]
                assert events[-1]["status"] == "completed", f"round {round_}: {events[-3:]}"
