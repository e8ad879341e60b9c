"""The job scheduler port: run callables and awaitables in the background and track their records."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from pydantic import BaseModel, ConfigDict
from ulid import ULID

from chapkit.domain.errors import BadRequestError
from chapkit.domain.jobs import JobRecord, JobStatus

JobTarget = Callable[..., Any] | Awaitable[Any]
"""What a job runs: a coroutine function, a plain callable (run in a worker thread) or an awaitable."""

InstanceProvider = Callable[[], AbstractAsyncContextManager[object]]
"""Gives, for the time of one job, an object whose bound methods jobs may name (an `MLManager`...)."""

NO_QUEUE = (
    "This service runs its jobs in process, so it has no queue for a worker to serve: build it with "
    "with_jobs(backend='procrastinate') or set CHAPKIT_JOBS_BACKEND=procrastinate (and a PostgreSQL database)"
)


class JobScheduler(BaseModel, ABC):
    """Abstract job scheduler interface for async task management.

    Unknown job ids raise `JobNotFoundError` (a `NotFoundError` and a `KeyError`) from every method that takes one.
    A service drives every scheduler the same way: `provide` the objects its jobs may name, `start`,
    `set_max_concurrency`, submit and read jobs, `shutdown`; a worker process calls `run_worker`. The
    lifecycle methods have defaults, so a scheduler written against the reference's four abstract
    methods still runs.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start background work (record writing, heartbeats, housekeeping); safe to call twice.

        The default has nothing to start.
        """

    async def shutdown(self, timeout: float | None = 0) -> None:
        """Stop: unfinished jobs get `timeout` seconds (None: as long as they need), then are canceled.

        The default has nothing to stop.
        """

    async def set_max_concurrency(self, n: int | None) -> None:
        """Run at most `n` jobs at once in each process that runs this scheduler's jobs (None: no limit).

        The default refuses a limit it could not keep (`NotImplementedError`).
        """
        if n is not None:
            raise NotImplementedError(f"{type(self).__name__} cannot limit how many jobs run at once")

    def provide(self, instances: Mapping[type, InstanceProvider]) -> None:
        """Name the objects whose bound methods jobs may be (a worker process gets them from the providers).

        A scheduler that runs jobs in the process that submitted them calls targets directly: the
        default ignores the providers.
        """

    async def run_worker(
        self,
        *,
        concurrency: int | None = None,
        queues: Iterable[str] | None = None,
        graceful_timeout: float | None = None,
        install_signal_handlers: bool = True,
    ) -> None:
        """Run queued jobs in this process until stopped (SIGINT/SIGTERM).

        `concurrency` jobs at once; on a stop, running jobs get `graceful_timeout` seconds (None: as long
        as they need), then are canceled. A scheduler with no queue raises `ValueError` (the default).
        """
        raise ValueError(NO_QUEUE)

    # -- jobs --------------------------------------------------------------------------------------

    @abstractmethod
    async def add_job(self, target: JobTarget, /, *args: Any, **kwargs: Any) -> ULID:
        """Schedule `target(*args, **kwargs)` (or the awaitable `target`) and return the new job's id.

        An awaitable target combined with arguments raises `TypeError`. What the target returns is the
        job's result; the record's `artifact_id` is a returned `JobOutcome`'s (whose result is that id),
        or a returned ULID (`chapkit.domain.jobs.job_artifact_id`).
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


__all__ = ["NO_QUEUE", "InstanceProvider", "JobScheduler", "JobTarget", "check_page"]
