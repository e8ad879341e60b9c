"""Which scheduler runs a service's jobs: in process (asyncio, the default) or on a distributed queue (D22).

`with_jobs(backend=...)` chooses; without it the `CHAPKIT_JOBS_BACKEND` environment variable does, so a
deployment scales out by configuration alone. Likewise `CHAPKIT_JOBS_HEARTBEAT_INTERVAL` and
`CHAPKIT_JOBS_STALE_AFTER` (seconds) set how often processes heartbeat and after how long a silent one
counts as dead, where `with_jobs` leaves them open. `procrastinate` needs the `distributed` extra and a
PostgreSQL database, which also holds the queue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, cast, get_args

from sqlalchemy.engine import make_url

from chapkit.adapters.scheduler import AIOJobScheduler
from chapkit.adapters.scheduler.distributed import ProcrastinateJobScheduler
from chapkit.adapters.sql import Database
from chapkit.adapters.sql.job_queue import DISTRIBUTED_NEEDS_POSTGRES, SqlJobQueue
from chapkit.domain.ports import Datastore, JobRecordStore, JobScheduler, OwnerLock

JobsBackend = Literal["asyncio", "procrastinate"]
JOBS_BACKENDS: tuple[str, ...] = get_args(JobsBackend)
JOBS_BACKEND_ENV = "CHAPKIT_JOBS_BACKEND"
JOBS_QUEUE_ENV = "CHAPKIT_JOBS_QUEUE"
HEARTBEAT_INTERVAL_ENV = "CHAPKIT_JOBS_HEARTBEAT_INTERVAL"
STALE_AFTER_ENV = "CHAPKIT_JOBS_STALE_AFTER"
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
            heartbeat_interval=heartbeat_interval or _seconds_from_env(HEARTBEAT_INTERVAL_ENV),
            stale_after=stale_after or _seconds_from_env(STALE_AFTER_ENV),
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


def _seconds_from_env(name: str) -> float | None:
    """A positive number of seconds from the environment variable `name` (None when unset or empty)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise ValueError(f"{name} must be a positive number of seconds, got {raw!r}")
    return seconds


def libpq_url(url: str) -> str:
    """The libpq URL (for procrastinate's psycopg connector) of a SQLAlchemy PostgreSQL URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def memory_scheduler(
    settings: JobsSettings, store: JobRecordStore, datastore: Datastore, lock: OwnerLock | None = None
) -> JobScheduler:
    """The in-process scheduler on memory storage; the distributed backend needs PostgreSQL (`ValueError`)."""
    del datastore  # in memory, the record store is the datastore's own
    if settings.backend != "asyncio":
        raise ValueError(DISTRIBUTED_NEEDS_POSTGRES)
    return AIOJobScheduler(store=store, owner_lock=lock, **settings.timings())


def sql_scheduler(
    settings: JobsSettings, store: JobRecordStore, datastore: Database, lock: OwnerLock | None = None
) -> JobScheduler:
    """The scheduler `settings` ask for on SQL storage (distributed: on this database's queue), holding `lock`."""
    if settings.backend == "asyncio":
        return AIOJobScheduler(store=store, owner_lock=lock, **settings.timings())
    return ProcrastinateJobScheduler(
        store=store,
        queue=SqlJobQueue(datastore, settings.queue),
        conninfo=libpq_url(datastore.url),
        queue_name=settings.queue,
        owner_lock=lock,
        **settings.timings(),
    )


__all__ = [
    "DEFAULT_QUEUE",
    "HEARTBEAT_INTERVAL_ENV",
    "JOBS_BACKENDS",
    "JOBS_BACKEND_ENV",
    "JOBS_QUEUE_ENV",
    "JobsBackend",
    "JobsSettings",
    "STALE_AFTER_ENV",
    "libpq_url",
    "memory_scheduler",
    "sql_scheduler",
]
