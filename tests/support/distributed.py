"""A distributed scheduler with a procrastinate worker in this process, for tests on PostgreSQL (D22)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from chapkit.adapters.scheduler.distributed import ProcrastinateJobScheduler
from chapkit.bootstrap.jobs_backend import JobsSettings
from chapkit.embedding import open_storage
from tests.conftest import truncate


@asynccontextmanager
async def running_distributed(
    url: str, *, worker: bool = True, concurrency: int = 8, record_ttl: float | None = None
) -> AsyncIterator[ProcrastinateJobScheduler]:
    """Open storage on `url` with the procrastinate backend, empty, and (unless `worker` is False) a worker."""
    settings = JobsSettings(backend="procrastinate", heartbeat_interval=0.5, record_ttl=record_ttl)
    async with open_storage(url, jobs=settings) as opened:
        await truncate(opened.database)
        scheduler = opened.scheduler
        assert isinstance(scheduler, ProcrastinateJobScheduler)
        running = None
        if worker:
            running = asyncio.create_task(scheduler.run_worker(concurrency=concurrency, install_signal_handlers=False))
        try:
            yield scheduler
        finally:
            if running is not None:
                running.cancel()
                with suppress(asyncio.CancelledError):
                    await running
