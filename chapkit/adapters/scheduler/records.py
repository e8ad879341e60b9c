"""Job records of one scheduler: authoritative in memory while unfinished, written behind to a store in batches."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from chapkit.adapters.observability import get_logger
from chapkit.domain.job_states import is_terminal, transition
from chapkit.domain.jobs import JobRecord, JobStatus
from chapkit.domain.ports.job_store import JobRecordStore

logger = get_logger(__name__)


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def newest_first_key(record: JobRecord) -> tuple[float, ULID]:
    """Sort key for newest-first listings: submission time, then id."""
    return (record.submitted_at.timestamp() if record.submitted_at is not None else float("-inf")), record.id


async def sleep_unless(event: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `event` is set first; return whether it is set."""
    try:
        await asyncio.wait_for(event.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


class WriteBehindRecords:
    """The records a scheduler keeps locally, and their batched writing to an optional store (D16).

    Every change marks the record dirty and wakes the writer (`write_behind`), which persists whatever
    changed while its previous write ran: one `save` for new records, one `update` for changed ones.
    Finished records the store holds are dropped from memory (`forget_persisted`), so memory does not
    grow per job. Without a store the records simply live here.
    """

    def __init__(self, store: JobRecordStore | None, owner: str, running: Collection[ULID]) -> None:
        """Keep records for `owner`, writing them to `store` when there is one.

        `running` is the live collection of ids whose jobs still run: their records are never dropped.
        """
        self.store = store
        self.owner = owner
        self._running = running
        self.records: dict[ULID, JobRecord] = {}
        self.wakeup = asyncio.Event()
        self.flush_lock = asyncio.Lock()
        self._dirty: dict[ULID, None] = {}
        self._inflight: set[ULID] = set()
        self._unsaved: set[ULID] = set()

    @property
    def pending_writes(self) -> int:
        """How many records wait to be written."""
        return len(self._dirty)

    def add(self, record: JobRecord) -> None:
        """Keep a new record (to be saved on the next write)."""
        self.records[record.id] = record
        if self.store is not None:
            self._unsaved.add(record.id)
        self.changed(record.id)

    def move(self, job_id: ULID, status: JobStatus, **changes: Any) -> None:
        """Apply a legal transition (D15) to a local record; finished and unknown records are left alone."""
        record = self.records.get(job_id)
        if record is None or is_terminal(record.status):
            return
        self.records[job_id] = transition(record, status, at=utc_now(), **changes)
        self.changed(job_id)

    def changed(self, job_id: ULID) -> None:
        """Mark a record for the next write and wake the writer."""
        if self.store is not None:
            self._dirty[job_id] = None
            self.wakeup.set()

    def local(self, job_id: ULID) -> JobRecord | None:
        """Return a copy of the local record, or None."""
        record = self.records.get(job_id)
        return None if record is None else record.model_copy()

    def page(self, offset: int, limit: int | None) -> tuple[list[JobRecord], int]:
        """Return the local records newest first, paged, and their count."""
        ordered = sorted(self.records.values(), key=newest_first_key, reverse=True)
        end = None if limit is None else offset + limit
        return [record.model_copy() for record in ordered[offset:end]], len(ordered)

    async def flush(self) -> None:
        """Write every record changed since the last write to the store (no-op without a store)."""
        store = self.store
        if store is None:
            return
        async with self.flush_lock:
            if not self._dirty:
                return
            ids = list(self._dirty)
            self._dirty.clear()
            self._inflight.update(ids)
            try:
                new = [self.records[i] for i in ids if i in self._unsaved and i in self.records]
                changed = [self.records[i] for i in ids if i not in self._unsaved and i in self.records]
                if new:
                    await store.save(new, self.owner)
                    self._unsaved.difference_update(record.id for record in new)
                if changed:
                    await store.update(changed)
            except BaseException:
                for job_id in ids:
                    self._dirty[job_id] = None
                raise
            finally:
                self._inflight.difference_update(ids)
            self.forget_persisted(ids)

    def forget_persisted(self, ids: Iterable[ULID]) -> None:
        """Drop local copies of finished records the store holds (with a store, memory stays bounded)."""
        if self.store is None:
            return
        for job_id in ids:
            record = self.records.get(job_id)
            if (
                record is not None
                and is_terminal(record.status)
                and job_id not in self._running
                and job_id not in self._dirty
                and job_id not in self._inflight
                and job_id not in self._unsaved
            ):
                del self.records[job_id]

    async def remove(self, job_id: ULID) -> None:
        """Forget a record here and in the store."""
        async with self.flush_lock:
            self.records.pop(job_id, None)
            self._dirty.pop(job_id, None)
            was_saved = job_id not in self._unsaved
            self._unsaved.discard(job_id)
            if self.store is not None and was_saved:
                await self.store.delete(job_id)

    async def write_behind(self, stopping: asyncio.Event, retry_after: float) -> None:
        """Write changed records until `stopping` is set; a failed write is retried every `retry_after` s."""
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            try:
                await self.flush()
            except Exception:
                logger.exception("job_records_write_failed", pending=self.pending_writes)
                if stopping.is_set():
                    return
                await sleep_unless(stopping, retry_after)
                self.wakeup.set()
                continue
            if stopping.is_set():
                return

    def expire(self, finished_before: datetime) -> None:
        """Drop local records that finished before `finished_before` (retention without a store)."""
        for job_id in [
            job_id
            for job_id, record in self.records.items()
            if record.finished_at is not None and record.finished_at < finished_before and job_id not in self._running
        ]:
            del self.records[job_id]


__all__ = ["WriteBehindRecords", "newest_first_key", "sleep_unless", "utc_now"]
