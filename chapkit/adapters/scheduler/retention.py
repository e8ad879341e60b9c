"""Bounded keeping of job results: at most a number of them, each for at most an age."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from time import monotonic
from typing import Any

from ulid import ULID

from chapkit.adapters.scheduler.records import WriteBehindRecords


class ResultCache:
    """Job results by id, oldest evicted first once more than `max_count` are kept or when past `ttl` seconds."""

    def __init__(
        self, max_count: int | None = None, ttl: float | None = None, *, clock: Callable[[], float] = monotonic
    ) -> None:
        """Keep at most `max_count` results (None: no limit), each for `ttl` seconds (None: no limit) of `clock`."""
        self._entries: OrderedDict[ULID, tuple[float, Any]] = OrderedDict()
        self.clock = clock
        self.configure(max_count, ttl)

    def configure(self, max_count: int | None, ttl: float | None) -> None:
        """Change the limits; results beyond the new ones go at once."""
        self.max_count = max_count
        self.ttl = ttl
        self.expire()

    def put(self, job_id: ULID, result: Any) -> None:
        """Keep `result` for `job_id`, evicting the oldest results beyond `max_count`."""
        if self.max_count == 0:
            return
        self._entries[job_id] = (self.clock(), result)
        self._entries.move_to_end(job_id)
        if self.max_count is not None:
            while len(self._entries) > self.max_count:
                self._entries.popitem(last=False)

    def get(self, job_id: ULID) -> tuple[bool, Any]:
        """Return `(True, result)` while the result is kept, else `(False, None)`."""
        entry = self._entries.get(job_id)
        if entry is None:
            return False, None
        stored_at, result = entry
        if self.ttl is not None and self.clock() - stored_at > self.ttl:
            del self._entries[job_id]
            return False, None
        return True, result

    def pop(self, job_id: ULID) -> None:
        """Forget the result of `job_id`, if kept."""
        self._entries.pop(job_id, None)

    def expire(self) -> None:
        """Drop results older than `ttl` and beyond `max_count`."""
        if self.max_count is not None:
            while len(self._entries) > self.max_count:
                self._entries.popitem(last=False)
        if self.ttl is None:
            return
        cutoff = self.clock() - self.ttl
        while self._entries:
            job_id, (stored_at, _) = next(iter(self._entries.items()))
            if stored_at > cutoff:
                break
            del self._entries[job_id]

    def __len__(self) -> int:
        return len(self._entries)


async def apply_retention(
    records: WriteBehindRecords, results: ResultCache, *, record_ttl: float | None, now: datetime
) -> None:
    """Drop expired results, and finished records older than `record_ttl` seconds (locally or in the store)."""
    results.expire()
    if record_ttl is None:
        return
    cutoff = now - timedelta(seconds=record_ttl)
    if records.store is None:
        records.expire(cutoff)
    else:
        await records.store.prune(finished_before=cutoff)


__all__ = ["ResultCache", "apply_retention"]
