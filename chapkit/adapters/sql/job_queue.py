"""The PostgreSQL job queue: procrastinate's tables in the service's own database (D22).

Records go to `job_records` and queue entries to `procrastinate_jobs` in one transaction of the
service's engine, through procrastinate's own `procrastinate_defer_jobs_v1` function (its stable,
versioned way in), so a job is recorded and queued together or not at all.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError

from chapkit.adapters.sql.database import Database
from chapkit.adapters.sql.job_store import row_values
from chapkit.adapters.sql.schema.jobs import job_records
from chapkit.domain.errors import ConflictError
from chapkit.domain.extras import MissingExtraError
from chapkit.domain.jobs import JobRecord
from chapkit.domain.ports.job_queue import JobQueue

_SCHEMA_LOCK = 0x63686170  # "chap": one advisory lock, so that processes starting together install once
_DEFER = text(
    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, CAST(:args AS jsonb), NULL)"
    "::procrastinate_job_to_defer_v1])"
)

DISTRIBUTED_NEEDS_POSTGRES = (
    "Distributed jobs need PostgreSQL: the queue lives in the service's database (give a postgresql:// URL)"
)


class SqlJobQueue(JobQueue):
    """procrastinate's queue in the service's PostgreSQL database, written through the service's engine."""

    def __init__(self, database: Database, queue: str = "chapkit") -> None:
        """Queue jobs on `queue` in `database` (PostgreSQL only: `ValueError` otherwise)."""
        if database.engine.dialect.name != "postgresql":
            raise ValueError(DISTRIBUTED_NEEDS_POSTGRES)
        self.database = database
        self.queue = queue

    async def install(self) -> None:
        """Apply procrastinate's schema unless its tables exist, under an advisory lock."""
        try:
            from procrastinate.schema import SchemaManager
        except ImportError as exc:
            raise MissingExtraError("The distributed job backend", "distributed", missing=exc.name) from exc

        async with self.database.write_transaction() as connection:
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            if await connection.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None:
                return
            raw = await connection.get_raw_connection()
            # A multi-statement script: asyncpg runs it with the simple protocol, in this transaction.
            await raw.driver_connection.execute(SchemaManager.get_schema())  # type: ignore[union-attr]

    async def enqueue(self, record: JobRecord, *, owner: str, task: str, payload: dict[str, Any]) -> None:
        """Insert the record and defer the job in one transaction; a stored id raises `ConflictError`."""
        try:
            async with self.database.write_transaction() as connection:
                await connection.execute(insert(job_records), [{**row_values(record), "owner": owner}])
                await connection.execute(_DEFER, {"queue": self.queue, "task": task, "args": json.dumps(payload)})
        except IntegrityError as exc:
            raise ConflictError(f"Job {record.id} already exists") from exc


__all__ = ["DISTRIBUTED_NEEDS_POSTGRES", "SqlJobQueue"]
