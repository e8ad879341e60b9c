"""The in-memory job-record store: records shared by the schedulers of one process."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ulid import ULID

from chapkit.domain.errors import ConflictError
from chapkit.domain.job_states import UNFINISHED_STATUSES, can_reach, check_transition, is_terminal, transition
from chapkit.domain.jobs import JobRecord, JobStatus
from chapkit.domain.ports.job_store import INTERRUPTED_ERROR, JobRecordStore


@dataclass(slots=True)
class _Row:
    """A stored record with what the store keeps beside it."""

    record: JobRecord
    owner: str
    cancel_requested: bool = False
    result: str | None = None


def _newest_first(record: JobRecord) -> tuple[float, ULID]:
    submitted = record.submitted_at.timestamp() if record.submitted_at is not None else float("-inf")
    return submitted, record.id


class InMemoryJobRecordStore(JobRecordStore):
    """Job records in process memory; `memory://` services use it. Records are copied in and out."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._rows: dict[ULID, _Row] = {}
        self._heartbeats: dict[str, datetime] = {}

    async def save(self, records: Sequence[JobRecord], owner: str) -> None:
        """Insert new records owned by `owner`; an id already stored raises `ConflictError`."""
        seen: set[ULID] = set()
        for record in records:
            if record.id in self._rows or record.id in seen:
                raise ConflictError(f"Job {record.id} already exists")
            seen.add(record.id)
        for record in records:
            self._rows[record.id] = _Row(record.model_copy(), owner)

    async def update(self, records: Sequence[JobRecord], *, results: Mapping[ULID, str] | None = None) -> list[ULID]:
        """Write each record whose status may follow the stored one (D15, `can_reach`); return the ids written."""
        written: list[ULID] = []
        for record in records:
            row = self._rows.get(record.id)
            if row is None:
                continue
            stored = row.record.status
            if can_reach(stored, record.status) or (stored == record.status and not is_terminal(stored)):
                row.record = record.model_copy()
                written.append(record.id)
                if results is not None and record.id in results:
                    row.result = results[record.id]
        return written

    async def get(self, job_id: ULID) -> JobRecord | None:
        """Return a copy of the record, or None."""
        row = self._rows.get(job_id)
        return None if row is None else row.record.model_copy()

    async def claim(
        self, job_id: ULID, *, from_owner: str, to_owner: str, status: JobStatus, at: datetime
    ) -> JobRecord | None:
        """Give `from_owner`'s pending record to `to_owner`, moved to `status`; None when not theirs or not pending."""
        check_transition(JobStatus.pending, status, job_id=job_id)
        row = self._rows.get(job_id)
        if row is None or row.owner != from_owner or row.record.status != JobStatus.pending:
            return None
        row.owner = to_owner
        row.record = transition(row.record, status, at=at)
        return row.record.model_copy()

    async def get_result(self, job_id: ULID) -> str | None:
        """Return the job's serialized result, or None."""
        row = self._rows.get(job_id)
        return None if row is None else row.result

    async def owner_of(self, job_id: ULID) -> str | None:
        """Return the record's owner, or None."""
        row = self._rows.get(job_id)
        return None if row is None else row.owner

    async def list_records(self, *, offset: int = 0, limit: int | None = None) -> list[JobRecord]:
        """Return copies of the records, newest first, paged by `offset` and `limit`."""
        ordered = sorted((row.record for row in self._rows.values()), key=_newest_first, reverse=True)
        end = None if limit is None else offset + limit
        return [record.model_copy() for record in ordered[offset:end]]

    async def count(self) -> int:
        """Return how many records are stored."""
        return len(self._rows)

    async def delete(self, job_id: ULID) -> bool:
        """Remove the record; return whether it was stored."""
        return self._rows.pop(job_id, None) is not None

    async def request_cancel(self, job_id: ULID) -> bool:
        """Flag an unfinished record for cancellation by its owner."""
        row = self._rows.get(job_id)
        if row is None or row.record.status not in UNFINISHED_STATUSES:
            return False
        row.cancel_requested = True
        return True

    async def cancel_requests(self, owner: str) -> list[ULID]:
        """Return the owner's unfinished records flagged for cancellation."""
        return [
            job_id
            for job_id, row in self._rows.items()
            if row.owner == owner and row.cancel_requested and row.record.status in UNFINISHED_STATUSES
        ]

    async def heartbeat(self, owner: str, at: datetime) -> None:
        """Record that `owner` is alive at `at`."""
        self._heartbeats[owner] = at

    async def release(self, owner: str) -> None:
        """Forget `owner`'s heartbeat."""
        self._heartbeats.pop(owner, None)

    async def fail_stale(self, *, stale_before: datetime, at: datetime, error: str = INTERRUPTED_ERROR) -> int:
        """Mark failed the unfinished records of owners whose heartbeat is older than `stale_before` (or absent)."""
        live = {owner for owner, beat in self._heartbeats.items() if beat >= stale_before}
        failed = 0
        for row in self._rows.values():
            if row.owner not in live and row.record.status in UNFINISHED_STATUSES:
                row.record = transition(row.record, JobStatus.failed, at=at, error=error)
                failed += 1
        for owner in [owner for owner in self._heartbeats if owner not in live]:
            del self._heartbeats[owner]
        return failed

    async def fail_owners(self, owners: Collection[str], *, at: datetime, error: str = INTERRUPTED_ERROR) -> int:
        """Mark failed the unfinished records of `owners` and forget their heartbeats."""
        dead = set(owners)
        failed = 0
        for row in self._rows.values():
            if row.owner in dead and row.record.status in UNFINISHED_STATUSES:
                row.record = transition(row.record, JobStatus.failed, at=at, error=error)
                failed += 1
        for owner in dead:
            self._heartbeats.pop(owner, None)
        return failed

    async def prune(self, *, finished_before: datetime) -> int:
        """Delete finished records older than `finished_before`."""
        expired = [
            job_id
            for job_id, row in self._rows.items()
            if row.record.finished_at is not None
            and is_terminal(row.record.status)
            and row.record.finished_at < finished_before
        ]
        for job_id in expired:
            del self._rows[job_id]
        return len(expired)


__all__ = ["InMemoryJobRecordStore"]
