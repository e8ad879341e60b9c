"""`AIOJobScheduler`: jobs as asyncio tasks, records written behind to an optional `JobRecordStore` (D16)."""

from __future__ import annotations

import asyncio
import inspect
from functools import partial
from typing import Any

from pydantic import Field, PrivateAttr
from ulid import ULID

from chapkit.adapters.observability import get_logger
from chapkit.adapters.scheduler.execution import JobFailure, describe_failure, execute_target, finish_or_cancel
from chapkit.adapters.scheduler.owners import OwnerWatch, honour_cancels, new_owner_id, wait_for_others
from chapkit.adapters.scheduler.records import WriteBehindRecords, sleep_unless, utc_now
from chapkit.adapters.scheduler.retention import ResultCache, apply_retention
from chapkit.domain.errors import JobNotFoundError
from chapkit.domain.job_states import is_terminal
from chapkit.domain.jobs import JobRecord, JobStatus, job_artifact_id, job_result
from chapkit.domain.ports.job_store import JobRecordStore
from chapkit.domain.ports.owner_lock import OwnerLock
from chapkit.domain.ports.scheduler import JobScheduler, JobTarget, check_page

logger = get_logger(__name__)


class AIOJobScheduler(JobScheduler):
    """In-memory asyncio scheduler. Sync callables run in thread pool, concurrency controlled via semaphore.

    Without a `store` the records live in this object, as in the reference. With a `JobRecordStore`
    every record and transition is written behind to it in batches (one `save` and one `update` per flush),
    so that records outlive the process and processes sharing a database see each other's jobs (D16).
    Results (any Python object) stay in this process only, bounded by `result_max_count` and
    `result_ttl`; finished records are pruned after `record_ttl` seconds when it is set.
    Call `shutdown()` when the service stops: running jobs are canceled and their records say so.

    This module runs jobs and answers the port; the records and their write-behind are in `records`,
    owners, heartbeats and cancels across processes in `owners`, retention in `retention`.
    """

    name: str = Field(default="chap")
    max_concurrency: int | None = Field(default=None)
    store: JobRecordStore | None = Field(default=None, exclude=True, description="Where records are kept durably")
    owner_lock: OwnerLock | None = Field(
        default=None, exclude=True, description="Held for this owner's lifetime, so a restart sees its death at once"
    )
    result_max_count: int | None = Field(default=1000, ge=0, description="Results kept in memory (None: all)")
    result_ttl: float | None = Field(default=None, gt=0, description="Seconds a result is kept after finishing")
    record_ttl: float | None = Field(default=None, gt=0, description="Seconds a finished record is kept")
    heartbeat_interval: float = Field(default=2.0, gt=0, description="Seconds between heartbeats and housekeeping")
    stale_after: float = Field(default=30.0, gt=0, description="Heartbeat age after which an owner counts as dead")
    poll_interval: float = Field(default=0.25, gt=0, description="Seconds between store polls for others' jobs")
    cancel_timeout: float = Field(default=10.0, ge=0, description="How long to wait for another owner to cancel")

    _book: WriteBehindRecords = PrivateAttr()
    _results: ResultCache = PrivateAttr(default_factory=ResultCache)
    _tasks: dict[ULID, asyncio.Task[None]] = PrivateAttr(default_factory=dict)
    _lock: asyncio.Lock = PrivateAttr(default_factory=asyncio.Lock)
    _sema: asyncio.Semaphore | None = PrivateAttr(default=None)
    _owner: str = PrivateAttr(default_factory=new_owner_id)
    _stopping: asyncio.Event = PrivateAttr(default_factory=asyncio.Event)
    _background: list[asyncio.Task[None]] = PrivateAttr(default_factory=list)
    _started: bool = PrivateAttr(default=False)
    _watch: OwnerWatch | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        """Initialize scheduler with optional concurrency limit."""
        super().__init__(**data)
        if self.max_concurrency and self.max_concurrency > 0:
            self._sema = asyncio.Semaphore(self.max_concurrency)
        self._results.configure(self.result_max_count, self.result_ttl)
        self._book = WriteBehindRecords(self.store, self._owner, running=self._tasks)

    @property
    def owner(self) -> str:
        """Return the owner id under which this scheduler stores its records."""
        return self._owner

    async def set_max_concurrency(self, n: int | None) -> None:
        """Set maximum number of concurrent jobs."""
        async with self._lock:
            self.max_concurrency = n
            self._sema = asyncio.Semaphore(n) if n and n > 0 else None

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start heartbeats, housekeeping and the record writer; fail dead owners' unfinished records (D16).

        Called by the first `add_job` if not called before; safe to call again.
        """
        if self._started:
            return
        async with self._lock:
            if self._started:
                return
            self._stopping = asyncio.Event()
            self._book.wakeup = asyncio.Event()
            if self.store is not None:
                watch = OwnerWatch(self.store, self._owner, stale_after=self.stale_after, lock=self.owner_lock)
                await watch.start(utc_now())
                self._watch = watch
                writer = self._book.write_behind(self._stopping, retry_after=self.heartbeat_interval)
                self._background.append(asyncio.create_task(writer, name=f"{self.name}-job-writer"))
            self._background.append(asyncio.create_task(self._housekeeping(), name=f"{self.name}-job-housekeeping"))
            self._started = True

    async def shutdown(self, timeout: float | None = 0) -> None:
        """Stop: let unfinished jobs run up to `timeout` seconds (None: until done), cancel the rest.

        Canceled jobs' records say `canceled`; every record is written, background work stops. Jobs
        running in a worker thread cannot be interrupted: their records say `canceled` and the thread
        finishes on its own. The scheduler can be started again afterwards.
        """
        await finish_or_cancel(list(self._tasks.values()), timeout)
        async with self._lock:
            self._stopping.set()
            self._book.wakeup.set()
            background, self._background = self._background, []
            if background:
                await asyncio.wait(background)
            watch, self._watch = self._watch, None
            if watch is not None:
                try:
                    await self.flush()
                except Exception:
                    logger.exception("job_records_not_written_at_shutdown", count=self._book.pending_writes)
                try:
                    await watch.stop()
                except Exception:
                    logger.exception("job_owner_not_released")
            self._started = False

    async def flush(self) -> None:
        """Write every record changed since the last write to the store (no-op without a store)."""
        await self._book.flush()

    # -- the port ----------------------------------------------------------------------------------

    async def add_job(self, target: JobTarget, /, *args: Any, **kwargs: Any) -> ULID:
        """Add a job to the scheduler and return its ID."""
        await self.start()
        jid = ULID()
        if jid in self._tasks or jid in self._book.records:
            raise RuntimeError(f"Job {jid!r} already scheduled")
        self._book.add(JobRecord(id=jid, status=JobStatus.pending, submitted_at=utc_now()))
        task = asyncio.create_task(self._runner(jid, target, args, kwargs), name=f"{self.name}-job-{jid}")
        self._tasks[jid] = task
        task.add_done_callback(partial(self._on_done, jid, target))
        return jid

    async def get_status(self, job_id: ULID) -> JobStatus:
        """Get the status of a job."""
        return (await self._find(job_id)).status

    async def get_record(self, job_id: ULID) -> JobRecord:
        """Get the full record of a job."""
        return await self._find(job_id)

    async def get_all_records(self) -> list[JobRecord]:
        """Get all job records, newest submission first (every process's, with a store)."""
        records, _ = await self._page(0, None)
        return records

    async def get_records_paginated(self, page: int, size: int) -> tuple[list[JobRecord], int]:
        """Return page `page` (1-indexed) of `size` records, newest first, and the total count."""
        check_page(page, size)
        return await self._page((page - 1) * size, size)

    async def cancel(self, job_id: ULID) -> bool:
        """Cancel a pending or running job; True once canceled, False if it had already finished.

        A job owned by another process is flagged in the store; its owner cancels it at its next poll,
        and this call waits up to `cancel_timeout` seconds for that.
        """
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
            return True
        record = await self._find(job_id)
        if is_terminal(record.status) or job_id in self._book.records or self.store is None:
            return False
        if not await self.store.request_cancel(job_id):
            return False
        await wait_for_others(self.store, job_id, self.cancel_timeout, self.poll_interval)
        return True

    async def delete(self, job_id: ULID) -> None:
        """Cancel the job if it is still running, then forget its record and result."""
        record = await self._find(job_id)
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
        elif not is_terminal(record.status) and job_id not in self._book.records and self.store is not None:
            await self.store.request_cancel(job_id)
            await wait_for_others(self.store, job_id, self.cancel_timeout, self.poll_interval)
        self._results.pop(job_id)
        await self._book.remove(job_id)

    async def wait(self, job_id: ULID, timeout: float | None = None) -> None:
        """Wait until the job has finished; raises `TimeoutError` after `timeout` seconds.

        As in the reference, a job that failed in this process re-raises its own exception here (while
        its outcome is retained). A canceled job returns normally: a `CancelledError` escaping `wait`
        would look like the waiter itself was canceled.
        """
        task = self._tasks.get(job_id)
        if task is None:
            record = await self._find(job_id)
            if not is_terminal(record.status) and not await wait_for_others(
                self.store, job_id, timeout, self.poll_interval
            ):
                raise TimeoutError(f"Job {job_id} did not finish within {timeout} s")
        else:
            _, pending = await asyncio.wait({task}, timeout=timeout)
            if pending:
                raise TimeoutError(f"Job {job_id} did not finish within {timeout} s")
        found, outcome = self._results.get(job_id)
        if found and isinstance(outcome, JobFailure):
            raise outcome.error

    async def get_result(self, job_id: ULID) -> Any:
        """Get the result of a completed job; raises `RuntimeError` for failed or unfinished jobs.

        Results stay in the process that ran the job and only within the retention; elsewhere a job that
        returned a ULID or a `JobOutcome` still gives its artifact id back (the record's `artifact_id`).
        """
        record = await self._find(job_id)
        if record.status == JobStatus.completed:
            found, result = self._results.get(job_id)
            if found and not isinstance(result, JobFailure):
                return result
            if record.artifact_id is not None:
                return record.artifact_id
            raise RuntimeError("Job result is not available: it was kept by another process or is past retention")
        if record.status == JobStatus.failed:
            raise RuntimeError(record.error or "Job failed")
        raise RuntimeError(f"Job not finished (status={record.status})")

    # -- running jobs ------------------------------------------------------------------------------

    async def _runner(self, jid: ULID, target: JobTarget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        try:
            if self._sema is not None:
                async with self._sema:
                    await self._run(jid, target, args, kwargs)
            else:
                await self._run(jid, target, args, kwargs)
        except asyncio.CancelledError:
            self._move(jid, JobStatus.canceled)
            raise

    async def _run(self, jid: ULID, target: JobTarget, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._move(jid, JobStatus.running)
        try:
            result = await execute_target(target, args, kwargs)
        except Exception as exc:
            error, formatted = describe_failure(exc)
            self._results.put(jid, JobFailure(exc))
            self._move(jid, JobStatus.failed, error=error, error_traceback=formatted)
            return
        self._results.put(jid, job_result(result))
        self._move(jid, JobStatus.completed, artifact_id=job_artifact_id(result))

    def _on_done(self, jid: ULID, target: JobTarget, task: asyncio.Task[None]) -> None:
        """Tidy up a finished task: a task canceled before it ever ran still needs a `canceled` record."""
        self._tasks.pop(jid, None)
        if task.cancelled():
            self._move(jid, JobStatus.canceled)
            if inspect.iscoroutine(target) and inspect.getcoroutinestate(target) == inspect.CORO_CREATED:
                target.close()
        elif (exc := task.exception()) is not None:
            # Only BaseExceptions such as SystemExit get here (_run records every Exception itself).
            error, formatted = describe_failure(exc)
            self._move(jid, JobStatus.failed, error=error, error_traceback=formatted)
        self._book.forget_persisted((jid,))

    def _move(self, jid: ULID, status: JobStatus, **changes: Any) -> None:
        self._book.move(jid, status, **changes)

    # -- background work ---------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Every `heartbeat_interval`: heartbeat, fail dead owners' jobs, honour cancels, apply retention."""
        while not await sleep_unless(self._stopping, self.heartbeat_interval):
            try:
                await self._housekeep()
            except Exception:
                logger.exception("job_housekeeping_failed")

    async def _housekeep(self) -> None:
        now = utc_now()
        if self.store is not None and self._watch is not None:
            await self._watch.beat(now)
            await honour_cancels(self.store, self._owner, self._tasks)
        await apply_retention(self._book, self._results, record_ttl=self.record_ttl, now=now)

    # -- reading -----------------------------------------------------------------------------------

    async def _find(self, job_id: ULID) -> JobRecord:
        record = self._book.local(job_id)
        if record is not None:
            return record
        if self.store is not None:
            stored = await self.store.get(job_id)
            if stored is not None:
                return stored
        raise JobNotFoundError(job_id)

    async def _page(self, offset: int, limit: int | None) -> tuple[list[JobRecord], int]:
        if self.store is not None:
            await self.flush()
            return await self.store.list_records(offset=offset, limit=limit), await self.store.count()
        return self._book.page(offset, limit)


__all__ = ["AIOJobScheduler"]
