"""The job scheduler port: run callables and awaitables in the background and track their records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict
from ulid import ULID

from chapkit.domain.errors import BadRequestError
from chapkit.domain.jobs import JobRecord, JobStatus

JobTarget = Callable[..., Any] | Awaitable[Any]
"""What a job runs: a coroutine function, a plain callable (run in a worker thread) or an awaitable."""


class JobScheduler(BaseModel, ABC):
    """Abstract job scheduler interface for async task management.

    Unknown job ids raise `JobNotFoundError` (a `NotFoundError` and a `KeyError`) from every method that takes one.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @abstractmethod
    async def add_job(self, target: JobTarget, /, *args: Any, **kwargs: Any) -> ULID:
        """Schedule `target(*args, **kwargs)` (or the awaitable `target`) and return the new job's id.

        An awaitable target combined with arguments raises `TypeError`.
        """

    @abstractmethod
    async def get_status(self, job_id: ULID) -> JobStatus:
        """Return the job's current status."""

    @abstractmethod
    async def get_record(self, job_id: ULID) -> JobRecord:
        """Return a copy of the job's record."""

    @abstractmethod
    async def get_all_records(self) -> list[JobRecord]:
        """Return copies of every record, newest submission first."""

    async def get_records_paginated(self, page: int, size: int) -> tuple[list[JobRecord], int]:
        """Return page `page` (1-indexed) of `size` records, newest submission first, and the total count.

        Raises `BadRequestError` when `page` or `size` is below 1. Adapters that keep many records
        override this to page in their storage; this default slices `get_all_records()`.
        """
        check_page(page, size)
        records = await self.get_all_records()
        start = (page - 1) * size
        return records[start : start + size], len(records)

    @abstractmethod
    async def cancel(self, job_id: ULID) -> bool:
        """Cancel a pending or running job; True if it was canceled, False if it had already finished."""

    @abstractmethod
    async def delete(self, job_id: ULID) -> None:
        """Cancel the job if it is still running, then forget its record and result."""

    @abstractmethod
    async def wait(self, job_id: ULID, timeout: float | None = None) -> None:
        """Wait until the job has finished, in any terminal status; raises `TimeoutError` after `timeout` seconds."""

    @abstractmethod
    async def get_result(self, job_id: ULID) -> Any:
        """Return a completed job's result; raises `RuntimeError` for failed or unfinished jobs."""


def check_page(page: int, size: int) -> None:
    """Raise `BadRequestError` unless `page` and `size` are at least 1."""
    if page < 1 or size < 1:
        raise BadRequestError(f"page and size must be at least 1 (got page={page}, size={size})")


__all__ = ["JobScheduler", "JobTarget", "check_page"]
