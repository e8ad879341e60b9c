"""An in-process queue for SQLite writers: one write transaction at a time per database file.

SQLite allows one writer per file. Without a queue, concurrent writers of one process meet the
file lock and SQLite's busy handler, which sleeps with growing back-off: under 16 concurrent writers
that gives second-long tails. Taking an asyncio lock before a session's first write and releasing it
when its transaction ends makes writers wait in order instead, for exactly as long as needed. Readers
never take it (WAL lets them run beside the writer); other processes still meet the busy timeout.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

WRITE_LOCK_KEY = "chapkit_sqlite_write_lock"
"""Key of the shared lock in the session's `info`."""


class SqliteWriteQueueError(TimeoutError):
    """A session waited longer than the busy timeout for another session's write transaction."""


class QueuedWriteSession(AsyncSession):
    """An `AsyncSession` that joins its database's write queue before its first write statement.

    The lock is taken when the session is about to flush pending objects or run an INSERT, UPDATE or
    DELETE, and released when its transaction ends (commit, rollback or close). A session that writes
    while another session *of the same task* holds an uncommitted write would wait for itself, as it
    would on SQLite's own lock; the wait is bounded by the busy timeout and then raises.
    """

    _holds_write_lock = False

    def _write_lock(self) -> tuple[asyncio.Lock, float]:
        lock, timeout = self.sync_session.info[WRITE_LOCK_KEY]
        return lock, timeout

    def _writes_pending(self, statement: Any = None) -> bool:
        if self._holds_write_lock:
            return False
        if statement is not None and getattr(statement, "is_dml", False):
            return True
        sync = self.sync_session
        return bool(sync.new or sync.deleted or sync.dirty)

    async def _join_write_queue(self) -> None:
        lock, timeout = self._write_lock()
        try:
            await asyncio.wait_for(lock.acquire(), timeout)
        except TimeoutError as error:
            raise SqliteWriteQueueError(
                f"Waited {timeout:g} s for another session's SQLite write transaction to end"
            ) from error
        self._holds_write_lock = True

    def _leave_write_queue(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            self._write_lock()[0].release()

    async def execute(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """Execute a statement, joining the write queue first when it (or an autoflush) writes."""
        if self._writes_pending(statement):
            await self._join_write_queue()
        return await super().execute(statement, *args, **kwargs)

    async def scalar(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """Return a scalar, joining the write queue first when an autoflush writes."""
        if self._writes_pending(statement):
            await self._join_write_queue()
        return await super().scalar(statement, *args, **kwargs)

    async def scalars(self, statement: Any, *args: Any, **kwargs: Any) -> Any:
        """Return scalars, joining the write queue first when an autoflush writes."""
        if self._writes_pending(statement):
            await self._join_write_queue()
        return await super().scalars(statement, *args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        """Get by primary key, joining the write queue first when an autoflush writes."""
        if self._writes_pending():
            await self._join_write_queue()
        return await super().get(*args, **kwargs)

    async def flush(self, objects: Any = None) -> None:
        """Flush, joining the write queue first when there is something to write."""
        if self._writes_pending():
            await self._join_write_queue()
        await super().flush(objects)

    async def commit(self) -> None:
        """Commit and leave the write queue."""
        try:
            if self._writes_pending():
                await self._join_write_queue()
            await super().commit()
        finally:
            self._leave_write_queue()

    async def rollback(self) -> None:
        """Roll back and leave the write queue."""
        try:
            await super().rollback()
        finally:
            self._leave_write_queue()

    async def close(self) -> None:
        """Close (discarding uncommitted work) and leave the write queue."""
        try:
            await super().close()
        finally:
            self._leave_write_queue()


__all__ = ["WRITE_LOCK_KEY", "QueuedWriteSession", "SqliteWriteQueueError"]
