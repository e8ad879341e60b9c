"""Which scheduler runs a service's jobs: in process (asyncio, the default) or on a distributed queue (D22).

`with_jobs(backend=...)` chooses; without it the `CHAPKIT_JOBS_BACKEND` environment variable does, so a
deployment scales out by configuration alone. `procrastinate` needs the `distributed` extra and a
PostgreSQL database, which also holds the queue.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, cast, get_args

from sqlalchemy.engine import make_url

from chapkit.adapters.scheduler import AIOJobScheduler
from chapkit.adapters.scheduler.distributed import ProcrastinateJobScheduler
from chapkit.adapters.sql import Database
from chapkit.adapters.sql.job_queue import DISTRIBUTED_NEEDS_POSTGRES, SqlJobQueue
from chapkit.domain.ports import Datastore, JobRecordStore

JobsBackend = Literal["asyncio", "procrastinate"]
JOBS_BACKENDS: tuple[str, ...] = get_args(JobsBackend)
JOBS_BACKEND_ENV = "CHAPKIT_JOBS_BACKEND"
JOBS_QUEUE_ENV = "CHAPKIT_JOBS_QUEUE"
DEFAULT_QUEUE = "chapkit"


@dataclass(frozen=True, slots=True)
class JobsSettings:
    """Where a service's jobs run, and how often its processes check on each other."""

    backend: JobsBackend = "asyncio"
    queue: str = DEFAULT_QUEUE
    heartbeat_interval: float | None = None
    stale_after: float | None = None
    record_ttl: float | None = None

    @classmethod
    def resolve(
        cls,
        backend: str | None = None,
        queue: str | None = None,
        *,
        heartbeat_interval: float | None = None,
        stale_after: float | None = None,
        record_ttl: float | None = None,
    ) -> JobsSettings:
        """Settings from `with_jobs` arguments, else the environment, else the defaults; `ValueError` if unknown."""
        chosen = backend or os.environ.get(JOBS_BACKEND_ENV) or "asyncio"
        if chosen not in JOBS_BACKENDS:
            raise ValueError(f"Unknown jobs backend {chosen!r}: choose one of {', '.join(JOBS_BACKENDS)}")
        return cls(
            backend=cast("JobsBackend", chosen),
            queue=queue or os.environ.get(JOBS_QUEUE_ENV) or DEFAULT_QUEUE,
            heartbeat_interval=heartbeat_interval,
            stale_after=stale_after,
            record_ttl=record_ttl,
        )

    def timings(self) -> dict[str, float]:
        """The scheduler fields these settings override."""
        chosen = {
            "heartbeat_interval": self.heartbeat_interval,
            "stale_after": self.stale_after,
            "record_ttl": self.record_ttl,
        }
        return {name: value for name, value in chosen.items() if value is not None}


def libpq_url(url: str) -> str:
    """The libpq URL (for procrastinate's psycopg connector) of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


RunningScheduler = AIOJobScheduler | ProcrastinateJobScheduler


def build_scheduler(settings: JobsSettings, store: JobRecordStore, datastore: Datastore) -> RunningScheduler:
    """The scheduler `settings` ask for, on this store (and, distributed, this database's queue)."""
    if settings.backend == "asyncio":
        return AIOJobScheduler(store=store, **settings.timings())
    if not isinstance(datastore, Database):
        raise ValueError(DISTRIBUTED_NEEDS_POSTGRES)
    return ProcrastinateJobScheduler(
        store=store,
        queue=SqlJobQueue(datastore, settings.queue),
        conninfo=libpq_url(datastore.url),
        queue_name=settings.queue,
        **settings.timings(),
    )


async def running_scheduler(
    store: JobRecordStore, datastore: Datastore, settings: JobsSettings | None = None
) -> AsyncIterator[RunningScheduler]:
    """Resource lifecycle of the job scheduler: `start()`, then `shutdown()` (jobs canceled, records written).

    `datastore` is started before the scheduler (the container sees the dependency) and stopped after it.
    """
    scheduler = build_scheduler(settings or JobsSettings(), store, datastore)
    await scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.shutdown()


__all__ = [
    "DEFAULT_QUEUE",
    "JOBS_BACKENDS",
    "JOBS_BACKEND_ENV",
    "JOBS_QUEUE_ENV",
    "JobsBackend",
    "JobsSettings",
    "RunningScheduler",
    "build_scheduler",
    "libpq_url",
    "running_scheduler",
]
