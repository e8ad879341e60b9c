"""`ProcrastinateJobScheduler`: jobs queued in PostgreSQL and run by worker processes on procrastinate (D22).

Every process of a deployment (API replicas and workers) builds the same scheduler on one database:

- **Submitting** (`add_job`, any process) names the target and serializes its arguments (`references`),
  then writes the `pending` record, owned by `QUEUED_OWNER`, and procrastinate's queue entry in one
  transaction (`JobQueue.enqueue`).
- **Running** (`run_worker`, in `chapkit worker`) is procrastinate's worker: for each queue entry it
  claims the record (`QUEUED_OWNER` -> this worker, one claimer wins), moves it to `running`, runs the
  target and writes the outcome; a JSON-serializable result is kept beside the record.
- **Reading** (status, record, list, wait, result, the SSE stream) reads the records, so every process
  sees every job.
- **Canceling** from any process flags the record; a queued job is claimed by the canceler and recorded
  `canceled` (its queue entry is then skipped); a running job is canceled by its worker at its next poll
  (every `poll_interval`), which kills a shell runner's process group with it (D23).
- **Dead workers** free their owner lock at once and stop heartbeating: a process starting later fails
  their unfinished records at once, and any process's housekeeping does after `stale_after` seconds
  (D16); the queue housekeeping finishes their queue entries. Jobs are never retried, so no job runs
  twice to completion; a job's artifacts are written in its last transaction, so a killed job leaves none.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from pydantic import Field, PrivateAttr
from ulid import ULID

from chapkit.adapters.observability import get_logger
from chapkit.adapters.scheduler.execution import describe_failure, execute_target, finish_or_cancel
from chapkit.adapters.scheduler.owners import OwnerWatch, honour_cancels, new_owner_id, wait_for_others
from chapkit.adapters.scheduler.records import sleep_unless, utc_now
from chapkit.adapters.scheduler.references import InstanceProvider, JobCall, encode_result, reference_of, resolved
from chapkit.application.shielding import complete_before_cancel
from chapkit.domain.errors import JobNotFoundError
from chapkit.domain.job_states import is_terminal, transition
from chapkit.domain.jobs import JobRecord, JobStatus, job_artifact_id
from chapkit.domain.ports.job_queue import JobQueue
from chapkit.domain.ports.job_store import QUEUED_OWNER, JobRecordStore
from chapkit.domain.ports.owner_lock import OwnerLock
from chapkit.domain.ports.scheduler import JobScheduler, JobTarget, check_page

logger = get_logger(__name__)

WORKER_TASK = "chapkit.run_job"
"""The one procrastinate task every job is queued as; its payload names the real target."""

WORKER_STOPPED_ERROR = "Interrupted: the worker running this job stopped before it finished"


class ProcrastinateJobScheduler(JobScheduler):
    """Jobs on a PostgreSQL queue, run by `chapkit worker` processes; records shared by every process (D22).

    `store` keeps the records (the service's `job_records`), `queue` writes them together with
    procrastinate's queue entries, `conninfo` is the libpq URL workers connect with. Jobs are submitted
    by reference: module-level functions, or methods of the objects `provide()` registers.
    """

    name: str = Field(default="chap")
    store: JobRecordStore = Field(exclude=True)
    queue: JobQueue = Field(exclude=True)
    owner_lock: OwnerLock | None = Field(
        default=None, exclude=True, description="Held for this process's lifetime, so a restart sees its death at once"
    )
    conninfo: str = Field(exclude=True, description="libpq URL of the database, for workers")
    queue_name: str = Field(default="chapkit", description="procrastinate queue the jobs go to")
    record_ttl: float | None = Field(default=None, gt=0, description="Seconds a finished record is kept")
    heartbeat_interval: float = Field(default=2.0, gt=0, description="Seconds between heartbeats and housekeeping")
    stale_after: float = Field(default=30.0, gt=0, description="Heartbeat age after which a process counts as dead")
    poll_interval: float = Field(default=0.25, gt=0, description="Seconds between polls (waits, cancel requests)")
    cancel_timeout: float = Field(default=10.0, ge=0, description="How long `cancel` waits for the worker")
    worker_concurrency: int = Field(default=4, ge=1, description="Jobs a worker runs at once unless told otherwise")
    fetch_interval: float = Field(
        default=1.0, gt=0, description="Seconds between a worker's queue polls when no notification came"
    )

    _instances: dict[type, InstanceProvider] = PrivateAttr(default_factory=dict)
    _tasks: dict[ULID, asyncio.Task[None]] = PrivateAttr(default_factory=dict)
    _owner: str = PrivateAttr(default_factory=new_owner_id)
    _stopping: asyncio.Event = PrivateAttr(default_factory=asyncio.Event)
    _background: list[asyncio.Task[None]] = PrivateAttr(default_factory=list)
    _started: bool = PrivateAttr(default=False)
    _lock: asyncio.Lock = PrivateAttr(default_factory=asyncio.Lock)
    _watch: OwnerWatch | None = PrivateAttr(default=None)

    @property
    def owner(self) -> str:
        """Return the owner id under which this process runs jobs."""
        return self._owner

    def provide(self, instances: Mapping[type, InstanceProvider]) -> None:
        """Let jobs name bound methods of these classes; a worker gets the objects from their providers."""
        self._instances.update(instances)

    async def set_max_concurrency(self, n: int | None) -> None:
        """Jobs each worker runs at once unless `run_worker` is told otherwise (None: the default, 4)."""
        self.worker_concurrency = n or type(self).model_fields["worker_concurrency"].default

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        """Install the queue when missing, announce this process, fail dead processes' jobs, start housekeeping."""
        if self._started:
            return
        async with self._lock:
            if self._started:
                return
            await self.queue.install()
            self._stopping = asyncio.Event()
            # Queued jobs wait for a worker, not for a process: their pseudo-owner is alive while any process is.
            watch = OwnerWatch(
                self.store,
                self._owner,
                stale_after=self.stale_after,
                lock=self.owner_lock,
                error=WORKER_STOPPED_ERROR,
                alive=(QUEUED_OWNER,),
            )
            await watch.start(utc_now())
            self._watch = watch
            await self._housekeep()
            self._background = [asyncio.create_task(self._housekeeping(), name=f"{self.name}-job-housekeeping")]
            self._started = True

    async def shutdown(self, timeout: float | None = 0) -> None:
        """Stop housekeeping; jobs this process runs get `timeout` seconds, then are canceled (recorded so)."""
        await finish_or_cancel(list(self._tasks.values()), timeout)
        async with self._lock:
            self._stopping.set()
            background, self._background = self._background, []
            if background:
                await asyncio.wait(background)
            watch, self._watch = self._watch, None
            if watch is not None:
                try:
                    await watch.stop()
                except Exception:
                    logger.exception("job_owner_not_released")
            self._started = False

    # -- the port ----------------------------------------------------------------------------------

    async def add_job(self, target: JobTarget, /, *args: Any, **kwargs: Any) -> ULID:
        """Queue a job by reference and return its id; `JobNotDistributableError` when a worker could not run it."""
        call = reference_of(target, args, kwargs, self._instances)
        await self.start()
        record = JobRecord(id=ULID(), status=JobStatus.pending, submitted_at=utc_now())
        await self.queue.enqueue(
            record, owner=QUEUED_OWNER, task=WORKER_TASK, payload={"job_id": str(record.id), **call.payload()}
        )
        return record.id

    async def get_status(self, job_id: ULID) -> JobStatus:
        """Get the status of a job."""
        return (await self._find(job_id)).status

    async def get_record(self, job_id: ULID) -> JobRecord:
        """Get the full record of a job."""
        return await self._find(job_id)

    async def get_all_records(self) -> list[JobRecord]:
        """Get every process's records, newest submission first."""
        return await self.store.list_records()

    async def get_records_paginated(self, page: int, size: int) -> tuple[list[JobRecord], int]:
        """Return page `page` (1-indexed) of `size` records, newest first, and the total count."""
        check_page(page, size)
        return await self.store.list_records(offset=(page - 1) * size, limit=size), await self.store.count()

    async def cancel(self, job_id: ULID) -> bool:
        """Cancel a queued or running job wherever it runs; True once canceled, False if it had finished.

        A running job is canceled by its worker at its next poll; this waits up to `cancel_timeout` for it.
        """
        return await self._cancel(await self._find(job_id))

    async def _cancel(self, record: JobRecord) -> bool:
        if is_terminal(record.status):
            return False
        job_id = record.id
        task = self._tasks.get(job_id)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
            return True
        if not await self.store.request_cancel(job_id):
            return False
        claimed = await self.store.claim(
            job_id, from_owner=QUEUED_OWNER, to_owner=self._owner, status=JobStatus.canceled, at=utc_now()
        )
        if claimed is not None:
            return True
        await wait_for_others(self.store, job_id, self.cancel_timeout, self.poll_interval)
        return True

    async def delete(self, job_id: ULID) -> None:
        """Cancel the job if it is unfinished, then forget its record and result."""
        await self._cancel(await self._find(job_id))
        await self.store.delete(job_id)

    async def wait(self, job_id: ULID, timeout: float | None = None) -> None:
        """Wait until the job has finished, in any terminal status; `TimeoutError` after `timeout` seconds."""
        record = await self._find(job_id)
        if is_terminal(record.status):
            return
        if not await wait_for_others(self.store, job_id, timeout, self.poll_interval):
            raise TimeoutError(f"Job {job_id} did not finish within {timeout} s")

    async def get_result(self, job_id: ULID) -> Any:
        """Return a completed job's result (its JSON, or its artifact id); `RuntimeError` otherwise."""
        record = await self._find(job_id)
        if record.status == JobStatus.completed:
            if record.artifact_id is not None:
                return record.artifact_id
            stored = await self.store.get_result(job_id)
            if stored is None:
                raise RuntimeError("Job result is not available: it could not be serialized as JSON")
            return json.loads(stored)
        if record.status == JobStatus.failed:
            raise RuntimeError(record.error or "Job failed")
        raise RuntimeError(f"Job not finished (status={record.status})")

    # -- workers -----------------------------------------------------------------------------------

    async def run_worker(
        self,
        *,
        concurrency: int | None = None,
        queues: Iterable[str] | None = None,
        graceful_timeout: float | None = None,
        install_signal_handlers: bool = True,
        wait: bool = True,
    ) -> None:
        """Run queued jobs in this process until stopped (SIGINT/SIGTERM, or caught up when `wait` is False).

        `concurrency` jobs run at once (default `worker_concurrency`); on a stop, running jobs get
        `graceful_timeout` seconds to finish (None: as long as they need), then are canceled and recorded
        `canceled`.
        """
        from procrastinate import App, PsycopgConnector  # the `distributed` extra

        await self.start()
        concurrency = concurrency or self.worker_concurrency
        app = App(connector=PsycopgConnector(conninfo=self.conninfo, min_size=1, max_size=concurrency + 2))

        async def run_job(**payload: Any) -> None:
            await self._run_queued(payload)

        app.task(name=WORKER_TASK, queue=self.queue_name)(run_job)
        options: dict[str, Any] = {}
        if graceful_timeout is not None:
            options["shutdown_graceful_timeout"] = graceful_timeout
        housekeeping = asyncio.create_task(self._queue_housekeeping(app), name=f"{self.name}-queue-housekeeping")
        try:
            async with _opened(app):
                await app.run_worker_async(
                    queues=list(queues) if queues is not None else [self.queue_name],
                    concurrency=concurrency,
                    wait=wait,
                    name=self._owner,
                    delete_jobs="always",
                    install_signal_handlers=install_signal_handlers,
                    # Workers wake on PostgreSQL notifications; polling bounds the wait for one that was
                    # missed (a job queued while the worker was still starting to listen).
                    fetch_job_polling_interval=self.fetch_interval,
                    update_heartbeat_interval=self.heartbeat_interval,
                    stalled_worker_timeout=self.stale_after,
                    **options,
                )
        finally:
            housekeeping.cancel()
            await asyncio.gather(housekeeping, return_exceptions=True)

    async def _run_queued(self, payload: dict[str, Any]) -> None:
        """Procrastinate's task: claim the record, run the job in a task of its own (so it can be canceled)."""
        job_id = ULID.from_str(str(payload["job_id"]))
        record = await self.store.claim(
            job_id, from_owner=QUEUED_OWNER, to_owner=self._owner, status=JobStatus.running, at=utc_now()
        )
        if record is None:
            logger.info("job_skipped", job_id=str(job_id), reason="canceled, deleted or claimed before it ran")
            return
        job = asyncio.create_task(
            self._execute(record, JobCall.from_payload(payload)), name=f"{self.name}-job-{job_id}"
        )
        self._tasks[job_id] = job
        try:
            await asyncio.shield(job)
        except asyncio.CancelledError:  # the worker is stopping past its graceful timeout
            job.cancel()
            await asyncio.wait({job})
            raise
        finally:
            self._tasks.pop(job_id, None)

    async def _execute(self, record: JobRecord, call: JobCall) -> None:
        """Run a claimed (`running`) job and write its outcome, its result with it."""
        logger.info("job_started", job_id=str(record.id), target=call.target)
        finished, results = await self._outcome(record, call)
        await self.store.update([finished], results=results)
        logger.info("job_finished", job_id=str(record.id), target=call.target, status=finished.status.value)

    async def _outcome(self, record: JobRecord, call: JobCall) -> tuple[JobRecord, dict[ULID, str] | None]:
        """Run the job: its finished record and, when it completed with a JSON-serializable result, the result."""
        try:
            async with resolved(call, self._instances) as (function, args, kwargs):
                result = await execute_target(function, args, kwargs)
        except asyncio.CancelledError:
            return transition(record, JobStatus.canceled, at=utc_now()), None
        except Exception as exc:
            error, formatted = describe_failure(exc)
            return transition(record, JobStatus.failed, at=utc_now(), error=error, error_traceback=formatted), None
        encoded = encode_result(function, result)
        completed = transition(record, JobStatus.completed, at=utc_now(), artifact_id=job_artifact_id(result))
        return completed, None if encoded is None else {record.id: encoded}

    # -- background work ---------------------------------------------------------------------------

    async def _housekeeping(self) -> None:
        """Honour cancel requests every `poll_interval`; heartbeat, fail dead owners' jobs, prune, less often."""
        last_beat = asyncio.get_running_loop().time()
        while not await sleep_unless(self._stopping, self.poll_interval):
            try:
                if self._tasks:
                    await honour_cancels(self.store, self._owner, self._tasks)
                now = asyncio.get_running_loop().time()
                if now - last_beat >= self.heartbeat_interval:
                    last_beat = now
                    await self._housekeep()
            except Exception:
                logger.exception("job_housekeeping_failed")

    async def _housekeep(self) -> None:
        now = utc_now()
        if self._watch is not None:
            await self._watch.beat(now)
        if self.record_ttl is not None:
            await self.store.prune(finished_before=now - timedelta(seconds=self.record_ttl))

    async def _queue_housekeeping(self, app: Any) -> None:
        """Finish the queue entries of dead workers (their records are failed by `_housekeep`), never retrying."""
        from procrastinate.jobs import Status

        while not await sleep_unless(self._stopping, self.heartbeat_interval):
            try:
                for stalled in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=self.stale_after):
                    await app.job_manager.finish_job(stalled, Status.FAILED, delete_job=True)
            except Exception:
                logger.exception("queue_housekeeping_failed")

    # -- reading -----------------------------------------------------------------------------------

    async def _find(self, job_id: ULID) -> JobRecord:
        stored = await self.store.get(job_id)
        if stored is None:
            raise JobNotFoundError(job_id)
        return stored


@asynccontextmanager
async def _opened(app: Any) -> AsyncIterator[None]:
    """Open a procrastinate app's connection pool for the block, and close it however the block or the opening ends.

    procrastinate's own context closes nothing when the opening is cut short: a worker stopped while its
    pool connects would leave the pool's tasks running, and a pool task that swallows the cancellation
    (psycopg's pool catches it while it connects) keeps the event loop from ever closing. A cancellation
    the pool swallowed is still pending on the task (`cancelling()`), and is raised once the opening
    returns. Closing also completes when the worker is canceled again meanwhile.
    """
    try:
        await app.open_async()
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            # A stop that arrived while the pool connected and was swallowed there: honour it now, or the
            # worker would start and run until killed.
            raise asyncio.CancelledError
        yield
    finally:
        await complete_before_cancel(app.close_async())


__all__ = ["WORKER_STOPPED_ERROR", "WORKER_TASK", "ProcrastinateJobScheduler"]
