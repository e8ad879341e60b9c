"""Helpers for users' tests: serve a FastAPI app over ASGI (lifespan run) and wait for jobs without sleeping."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI
from ulid import ULID

from chapkit.domain.jobs import JobRecord
from chapkit.embedding import ChapkitService

TERMINAL_JOB_STATUSES = frozenset({"completed", "failed", "canceled"})
# Only when the client does not talk to an app in this process (a live server), the record is polled.
_POLL_INTERVAL = 0.01


@asynccontextmanager
async def serve_app(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[Any]:
    """Run the app's lifespan and yield an `httpx.AsyncClient` talking to it in process (ASGI transport)."""
    import httpx  # the testing extra: `pip install 'chapkit[testing]'`

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


async def wait_for_job(
    client: Any, job_id: str | ULID, timeout: float = 30.0, prefix: str = "/api/v1/jobs"
) -> dict[str, Any] | JobRecord:
    """Wait until the job has ended and return its record.

    `client` is a `ChapkitService` (the record is a `JobRecord`) or an `httpx.AsyncClient` (the record is
    the JSON of `GET {prefix}/{job_id}`). For an app served in process the scheduler's own `wait` is
    awaited, so no test depends on sleeping; for a remote server the record is polled.
    """
    ulid_id = job_id if isinstance(job_id, ULID) else ULID.from_str(job_id)
    if isinstance(client, ChapkitService):
        return await client.jobs.wait(ulid_id, timeout=timeout)
    with anyio.fail_after(timeout):
        scheduler = _scheduler_of(client)
        if scheduler is not None:
            # The scheduler's wait re-raises a failed job's own error (as the reference's); its record says why.
            with contextlib.suppress(Exception):
                await scheduler.wait(ulid_id)
        while True:
            response = await client.get(f"{prefix}/{ulid_id}")
            response.raise_for_status()
            record: dict[str, Any] = response.json()
            if record["status"] in TERMINAL_JOB_STATUSES:
                return record
            await anyio.sleep(_POLL_INTERVAL)


def _scheduler_of(client: Any) -> Any:
    """The job scheduler of the chapkit app a client reaches over ASGI, or None."""
    app = getattr(getattr(client, "_transport", None), "app", None)
    state = getattr(app, "state", None)
    return getattr(state, "scheduler", None) if state is not None else None
