"""`JobRouter`: list, inspect, delete and stream the jobs of a `JobScheduler`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Query, Response, status
from fastapi.responses import StreamingResponse
from pydantic import TypeAdapter
from ulid import ULID

from chapkit.adapters.http.pagination import PageQuery, SizeQuery
from chapkit.adapters.http.problems import problem_responses
from chapkit.adapters.http.router import Router
from chapkit.adapters.http.sse import SSE_HEADERS, SSE_MEDIA_TYPE, format_sse_event, format_sse_model_event
from chapkit.adapters.http.utilities import UlidPath, id_path, parse_ulid
from chapkit.domain.errors import JobNotFoundError
from chapkit.domain.jobs import JobRecord, JobStatus
from chapkit.domain.ports.scheduler import JobScheduler
from chapkit.domain.schemas import PaginatedResponse

TERMINAL_STATES = frozenset({JobStatus.completed, JobStatus.failed, JobStatus.canceled})
_JOB_LIST_SCHEMA = TypeAdapter(list[JobRecord]).json_schema()


class JobRouter(Router):
    """REST API router for job scheduler operations."""

    def __init__(
        self,
        prefix: str,
        tags: list[str],
        scheduler_factory: Callable[..., Any],
        **kwargs: Any,
    ) -> None:
        """Initialize job router with scheduler factory."""
        self.scheduler_factory = scheduler_factory
        super().__init__(prefix=prefix, tags=tags, **kwargs)

    async def _record(self, scheduler: JobScheduler, job_id: str) -> tuple[ULID, JobRecord]:
        ulid_id = parse_ulid(job_id)
        return ulid_id, await scheduler.get_record(ulid_id)

    def _register_routes(self) -> None:
        """Register job management endpoints."""
        scheduler_dependency = Depends(self.scheduler_factory)

        @self.router.get(
            "",
            summary="List all jobs",
            response_model=list[JobRecord] | PaginatedResponse[JobRecord],
        )
        async def get_jobs(
            scheduler: JobScheduler = scheduler_dependency,
            status_filter: JobStatus | None = None,
            page: PageQuery = None,
            size: SizeQuery = None,
        ) -> list[JobRecord] | PaginatedResponse[JobRecord]:
            paginated = page is not None and size is not None
            if paginated and status_filter is None:
                assert page is not None and size is not None
                items, total = await scheduler.get_records_paginated(page, size)
                return PaginatedResponse[JobRecord](items=items, total=total, page=page, size=size)
            jobs = await scheduler.get_all_records()
            if status_filter is not None:
                jobs = [job for job in jobs if job.status == status_filter]
            if page is not None and size is not None:
                start = (page - 1) * size
                return PaginatedResponse[JobRecord](
                    items=jobs[start : start + size], total=len(jobs), page=page, size=size
                )
            return jobs

        @self.router.get("/$schema", summary="Get jobs list schema", response_model=dict[str, Any])
        async def get_jobs_schema() -> dict[str, Any]:
            return _JOB_LIST_SCHEMA

        @self.router.get(
            id_path("job_id"), summary="Get job by ID", response_model=JobRecord, responses=problem_responses(400, 404)
        )
        async def get_job(job_id: UlidPath, scheduler: JobScheduler = scheduler_dependency) -> JobRecord:
            _, record = await self._record(scheduler, job_id)
            return record

        @self.router.delete(
            id_path("job_id"),
            summary="Cancel and delete job",
            status_code=status.HTTP_204_NO_CONTENT,
            response_class=Response,
            responses=problem_responses(400, 404, 405),
        )
        async def delete_job(job_id: UlidPath, scheduler: JobScheduler = scheduler_dependency) -> Response:
            await scheduler.delete(parse_ulid(job_id))
            return Response(status_code=status.HTTP_204_NO_CONTENT)

        @self.router.get(
            id_path("job_id") + "/$stream",
            summary="Stream job status updates via SSE",
            description="Real-time Server-Sent Events stream of job status changes until terminal state",
            response_class=StreamingResponse,
            responses={
                200: {"content": {SSE_MEDIA_TYPE: {"schema": {"type": "string"}}}},
                **problem_responses(400, 404),
            },
        )
        async def stream_job_status(
            job_id: UlidPath,
            scheduler: JobScheduler = scheduler_dependency,
            poll_interval: Annotated[float, Query(gt=0, le=3600, description="Seconds between polls")] = 0.5,
        ) -> StreamingResponse:
            ulid_id, first = await self._record(scheduler, job_id)

            async def event_stream() -> AsyncIterator[bytes]:
                record: JobRecord | None = first
                while True:
                    if record is None:
                        try:
                            record = await scheduler.get_record(ulid_id)
                        except JobNotFoundError:
                            yield format_sse_event({"status": "deleted"})
                            return
                    yield format_sse_model_event(record)
                    if record.status in TERMINAL_STATES:
                        return
                    record = None
                    await asyncio.sleep(poll_interval)

            return StreamingResponse(event_stream(), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)


__all__ = ["JobRouter", "TERMINAL_STATES"]
