"""Background jobs and their Server-Sent Events stream.

`POST /api/v1/countdowns` `{"steps": 5, "delay": 0.5}` submits a job to the service's scheduler (through
`get_scheduler`) and answers 202 with its `job_id`. `GET /api/v1/jobs/{job_id}/$stream` sends the job
record as `data: {...}` events until the job is `completed`, `failed` or `canceled`;
`GET /api/v1/countdowns/{job_id}` returns the job's result once it has completed. Run from the
repository root:

    chapkit serve examples.jobs_sse.main:app

and follow a job with `curl -N 'http://127.0.0.1:8000/api/v1/jobs/<job_id>/$stream'` (or
`chapkit jobs watch <job_id>`). Job records are kept in `jobs_sse.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, Field
from ulid import ULID

from chapkit import (
    BadRequestError,
    InvalidULIDError,
    JobScheduler,
    JobStatus,
    NotFoundError,
    ServiceBuilder,
    ServiceInfo,
    get_scheduler,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///jobs_sse.db")


class CountdownIn(BaseModel):
    """A countdown to run in the background."""

    steps: int = Field(default=5, ge=1, le=100)
    delay: float = Field(default=0.5, ge=0, le=10, description="Seconds per step")


class CountdownSubmitted(BaseModel):
    """The submitted job, and where to follow it."""

    job_id: str
    stream_url: str


class CountdownResult(BaseModel):
    """What a finished countdown returned."""

    job_id: str
    result: list[int]


async def countdown(steps: int, delay: float) -> list[int]:
    """The job: count down from `steps`, one step every `delay` seconds."""
    counted = []
    for step in range(steps, 0, -1):
        await asyncio.sleep(delay)
        counted.append(step)
    return counted


Scheduler = Annotated[JobScheduler, Depends(get_scheduler)]
router = APIRouter(prefix="/api/v1/countdowns", tags=["Countdowns"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=CountdownSubmitted)
async def submit_countdown(body: CountdownIn, scheduler: Scheduler) -> CountdownSubmitted:
    """Submit a countdown job; 202 with its id."""
    job_id = await scheduler.add_job(countdown, body.steps, body.delay)
    return CountdownSubmitted(job_id=str(job_id), stream_url=f"/api/v1/jobs/{job_id}/$stream")


@router.get("/{job_id}", response_model=CountdownResult)
async def countdown_result(job_id: str, scheduler: Scheduler) -> CountdownResult:
    """The result of a completed countdown (400 while it runs or after it failed, 404 if unknown)."""
    try:
        ulid = ULID.from_str(job_id)
    except ValueError:
        raise InvalidULIDError(f"Invalid ULID format: {job_id}") from None
    try:
        record = await scheduler.get_record(ulid)
    except KeyError:
        raise NotFoundError(f"Job {job_id} not found") from None
    if record.status != JobStatus.completed:
        raise BadRequestError(f"Job {job_id} is {record.status.value}, not completed")
    return CountdownResult(job_id=job_id, result=await scheduler.get_result(ulid))


app = (
    ServiceBuilder(info=ServiceInfo(display_name="Countdowns", summary="Jobs and their SSE stream"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health()
    .with_jobs(max_concurrency=4)
    .include_router(router)
    .build()
)
