"""The SQL job-record store: SQLAlchemy Core statements on `job_records` and `job_owners`, batched."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Row, Select, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from ulid import ULID

from chapkit.adapters.sql.schema.jobs import job_owners, job_records
from chapkit.domain.errors import ConflictError
from chapkit.domain.job_states import UNFINISHED_STATUSES, ancestors, check_transition, is_terminal
from chapkit.domain.jobs import JobRecord, JobStatus
from chapkit.domain.ports.job_store import INTERRUPTED_ERROR, JobRecordStore
from chapkit.domain.ports.unit_of_work import JobRecordReader


class RecordConnections(Protocol):
    """Where job records are read and written: a `Database` (its engine, outside any session)."""

    def write_transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """One write transaction."""
        ...

    def read_connection(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads."""
        ...


_CHUNK = 500
"""Rows per statement: keeps every `IN (...)` list and batch well below the drivers' parameter limits."""

_RECORD_COLUMNS = (
    job_records.c.id,
    job_records.c.status,
    job_records.c.submitted_at,
    job_records.c.started_at,
    job_records.c.finished_at,
    job_records.c.error,
    job_records.c.error_traceback,
    job_records.c.artifact_id,
)

_UPDATE_BY_ID = (
    update(job_records)
    .where(job_records.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        started_at=bindparam("b_started_at"),
        finished_at=bindparam("b_finished_at"),
        error=bindparam("b_error"),
        error_traceback=bindparam("b_error_traceback"),
        artifact_id=bindparam("b_artifact_id"),
    )
)


_RESULT_BY_ID = update(job_records).where(job_records.c.id == bindparam("b_id")).values(result=bindparam("b_result"))


_COUNT = select(func.count()).select_from(job_records)


def _by_id(job_id: ULID) -> Select[Any]:
    """The record with this id."""
    return select(*_RECORD_COLUMNS).where(job_records.c.id == job_id)


def _newest_first(offset: int, limit: int | None) -> Select[Any]:
    """Records newest first (`submitted_at`, then id, descending), paged."""
    order = (job_records.c.submitted_at.desc(), job_records.c.id.desc())
    return select(*_RECORD_COLUMNS).order_by(*order).offset(offset).limit(limit)


def row_values(record: JobRecord) -> dict[str, Any]:
    """The `job_records` columns of a record (its owner and cancel flag are the writer's)."""
    return {
        "id": record.id,
        "status": record.status.value,
        "submitted_at": record.submitted_at,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "error": record.error,
        "error_traceback": record.error_traceback,
        "artifact_id": record.artifact_id,
    }


def _update_values(record: JobRecord) -> dict[str, Any]:
    return {f"b_{name}": value for name, value in row_values(record).items() if name != "submitted_at"}


def _record(row: Row[Any, Any, Any, Any, Any, Any, Any, Any]) -> JobRecord:
    return JobRecord(
        id=row.id,
        status=JobStatus(row.status),
        submitted_at=row.submitted_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        error=row.error,
        error_traceback=row.error_traceback,
        artifact_id=row.artifact_id,
    )


def _writable_from(status: JobStatus) -> list[str]:
    """Stored statuses a record in `status` may overwrite (D15; same non-terminal status rewrites)."""
    sources = set(ancestors(status))
    if not is_terminal(status):
        sources.add(status)
    return sorted(source.value for source in sources)


_WRITABLE_FROM = {status: _writable_from(status) for status in JobStatus}


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start : start + _CHUNK] for start in range(0, len(items), _CHUNK)]


class SqlJobRecordStore(JobRecordStore):
    """Job records in the service's database, shared by every process using it (D16)."""

    def __init__(self, database: RecordConnections) -> None:
        """Use `database`'s engine; its schema (migration 0002) must be in place before the first call."""
        self.database = database

    def _writing(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A write transaction holding the write lock from its start, so reads inside it stay exact.

        On an SQLite file it is this process's write turn, so it queues behind the ORM sessions'
        writes instead of meeting SQLite's busy back-off.
        """
        return self.database.write_transaction()

    async def save(self, records: Sequence[JobRecord], owner: str) -> None:
        """Insert new records owned by `owner` in one transaction; a stored id raises `ConflictError`."""
        if not records:
            return
        rows = [{**row_values(record), "owner": owner, "cancel_requested": False} for record in records]
        try:
            async with self._writing() as connection:
                for chunk in _chunks(rows):
                    await connection.execute(insert(job_records), list(chunk))
        except IntegrityError as exc:
            raise ConflictError("A job with one of these ids already exists") from exc

    async def update(self, records: Sequence[JobRecord], *, results: Mapping[ULID, str] | None = None) -> list[ULID]:
        """Write the records whose status may follow the stored one (D15), and their results, in one transaction."""
        if not records:
            return []
        latest = {record.id: record for record in records}
        written: set[ULID] = set()
        async with self._writing() as connection:
            stored: dict[ULID, JobStatus] = {}
            for chunk in _chunks(sorted(latest)):  # one lock order for every writer
                result = await connection.execute(
                    select(job_records.c.id, job_records.c.status).where(job_records.c.id.in_(chunk)).with_for_update()
                )
                stored.update((row.id, JobStatus(row.status)) for row in result)
            by_status: dict[JobStatus, list[JobRecord]] = {}
            for job_id, record in latest.items():
                current = stored.get(job_id)
                if current is not None and current.value in _WRITABLE_FROM[record.status]:
                    by_status.setdefault(record.status, []).append(record)
                    written.add(job_id)
            for status, group in by_status.items():
                # Plain comparisons, not IN: an expanding IN parameter cannot be used with executemany.
                statement = _UPDATE_BY_ID.where(or_(*(job_records.c.status == old for old in _WRITABLE_FROM[status])))
                for chunk in _chunks(group):
                    await connection.execute(statement, [_update_values(record) for record in chunk])
            kept = [
                {"b_id": job_id, "b_result": result} for job_id, result in (results or {}).items() if job_id in written
            ]
            for chunk in _chunks(kept):
                await connection.execute(_RESULT_BY_ID, list(chunk))
        return [record.id for record in records if record.id in written]

    async def get(self, job_id: ULID) -> JobRecord | None:
        """Return the record with this id, or None."""
        async with self.database.read_connection() as connection:
            row = (await connection.execute(_by_id(job_id))).first()
        return None if row is None else _record(row)

    async def claim(
        self, job_id: ULID, *, from_owner: str, to_owner: str, status: JobStatus, at: datetime
    ) -> JobRecord | None:
        """Give `from_owner`'s pending record to `to_owner`, moved to `status`, in one conditional update."""
        check_transition(JobStatus.pending, status, job_id=job_id)
        moved = {"started_at": at} if status is JobStatus.running else {"finished_at": at}
        async with self._writing() as connection:
            row = (
                await connection.execute(
                    update(job_records)
                    .where(
                        job_records.c.id == job_id,
                        job_records.c.owner == from_owner,
                        job_records.c.status == JobStatus.pending.value,
                    )
                    .values(owner=to_owner, status=status.value, **moved)
                    .returning(*_RECORD_COLUMNS)
                )
            ).first()
        return None if row is None else _record(row)

    async def get_result(self, job_id: ULID) -> str | None:
        """Return the job's serialized result, or None."""
        async with self.database.read_connection() as connection:
            result: str | None = await connection.scalar(select(job_records.c.result).where(job_records.c.id == job_id))
        return result

    async def owner_of(self, job_id: ULID) -> str | None:
        """Return the record's owner, or None."""
        async with self.database.read_connection() as connection:
            owner: str | None = await connection.scalar(select(job_records.c.owner).where(job_records.c.id == job_id))
        return owner

    async def list_records(self, *, offset: int = 0, limit: int | None = None) -> list[JobRecord]:
        """Return records newest first (`submitted_at`, then id, descending), paged."""
        async with self.database.read_connection() as connection:
            return [_record(row) for row in await connection.execute(_newest_first(offset, limit))]

    async def count(self) -> int:
        """Return how many records are stored."""
        async with self.database.read_connection() as connection:
            total: int = await connection.scalar(_COUNT) or 0
        return total

    async def delete(self, job_id: ULID) -> bool:
        """Remove the record; return whether it was stored."""
        async with self._writing() as connection:
            result = await connection.execute(delete(job_records).where(job_records.c.id == job_id))
        return bool(result.rowcount)

    async def request_cancel(self, job_id: ULID) -> bool:
        """Flag an unfinished record for cancellation by its owner."""
        async with self._writing() as connection:
            result = await connection.execute(
                update(job_records)
                .where(job_records.c.id == job_id, job_records.c.status.in_(_unfinished()))
                .values(cancel_requested=True)
            )
        return bool(result.rowcount)

    async def cancel_requests(self, owner: str) -> list[ULID]:
        """Return the owner's unfinished records flagged for cancellation."""
        statement = select(job_records.c.id).where(
            job_records.c.owner == owner,
            job_records.c.status.in_(_unfinished()),
            job_records.c.cancel_requested.is_(True),
        )
        async with self.database.read_connection() as connection:
            return list((await connection.scalars(statement)).all())

    async def heartbeat(self, owner: str, at: datetime) -> None:
        """Record that `owner` is alive at `at`."""
        async with self._writing() as connection:
            result = await connection.execute(
                update(job_owners).where(job_owners.c.owner == owner).values(heartbeat_at=at)
            )
            if not result.rowcount:
                await connection.execute(insert(job_owners).values(owner=owner, heartbeat_at=at))

    async def release(self, owner: str) -> None:
        """Forget `owner`'s heartbeat."""
        async with self._writing() as connection:
            await connection.execute(delete(job_owners).where(job_owners.c.owner == owner))

    async def fail_stale(self, *, stale_before: datetime, at: datetime, error: str = INTERRUPTED_ERROR) -> int:
        """Mark failed the unfinished records of owners whose heartbeat is older than `stale_before` (or absent)."""
        live = select(job_owners.c.owner).where(job_owners.c.heartbeat_at >= stale_before)
        async with self._writing() as connection:
            result = await connection.execute(
                update(job_records)
                .where(job_records.c.status.in_(_unfinished()), job_records.c.owner.not_in(live))
                .values(status=JobStatus.failed.value, finished_at=at, error=error, error_traceback=None)
            )
            await connection.execute(delete(job_owners).where(job_owners.c.heartbeat_at < stale_before))
        return int(result.rowcount or 0)

    async def fail_owners(self, owners: Collection[str], *, at: datetime, error: str = INTERRUPTED_ERROR) -> int:
        """Mark failed the unfinished records of `owners` and forget their heartbeats, in one transaction."""
        dead = sorted(set(owners))
        if not dead:
            return 0
        failed = 0
        async with self._writing() as connection:
            for chunk in _chunks(dead):
                result = await connection.execute(
                    update(job_records)
                    .where(job_records.c.status.in_(_unfinished()), job_records.c.owner.in_(chunk))
                    .values(status=JobStatus.failed.value, finished_at=at, error=error, error_traceback=None)
                )
                failed += int(result.rowcount or 0)
                await connection.execute(delete(job_owners).where(job_owners.c.owner.in_(chunk)))
        return failed

    async def prune(self, *, finished_before: datetime) -> int:
        """Delete finished records older than `finished_before`."""
        terminal = sorted(status.value for status in JobStatus if is_terminal(status))
        async with self._writing() as connection:
            result = await connection.execute(
                delete(job_records).where(
                    job_records.c.finished_at < finished_before, job_records.c.status.in_(terminal)
                )
            )
        return int(result.rowcount or 0)


def _unfinished() -> list[str]:
    return sorted(status.value for status in UNFINISHED_STATUSES)


class SqlJobRecordReader(JobRecordReader):
    """Job records read on a unit of work's session, so they are seen in its transaction."""

    def __init__(self, session: AsyncSession) -> None:
        """Read on `session`."""
        self.s = session

    async def get(self, job_id: ULID) -> JobRecord | None:
        """Return the record with this id, or None."""
        row = (await self.s.execute(_by_id(job_id))).first()
        return None if row is None else _record(row)

    async def list_records(self, *, offset: int = 0, limit: int | None = None) -> list[JobRecord]:
        """Return records newest first (`submitted_at`, then id, descending), paged."""
        return [_record(row) for row in await self.s.execute(_newest_first(offset, limit))]

    async def count(self) -> int:
        """Return how many records are stored."""
        total: int = await self.s.scalar(_COUNT) or 0
        return total


__all__ = ["SqlJobRecordReader", "SqlJobRecordStore"]
