"""The write turn of an SQLite file: one writer at a time per process, on a connection of its own.

SQLite allows one writer per file. Without a queue, concurrent writers of one process meet the file
lock and SQLite's busy handler, which sleeps with growing back-off: second-long tails under 16
writers. So writers of one process take turns on an asyncio lock, and the turn comes with the one
connection writes go through. The rules, one order of acquisition everywhere:

- Readers use the engine's pool and never wait for the turn (WAL lets them read beside the writer).
- Whoever holds the turn writes on the writer connection, never on a pooled one, so a writer never
  waits for a reader's connection: nobody waits on another transaction longer than its own work.
  (An earlier design took the turn *then* a pooled connection while sessions that had read first
  held pooled connections and waited for the turn: both sides waited 30 s.)
- The writer connection begins every transaction with `BEGIN IMMEDIATE`: holding the turn is
  holding SQLite's write lock, so what a writer reads in its turn stays true until it commits, also
  against other processes (they wait for it through the busy timeout).
- A session opened with write intent (`Database.session(write=True)`: HTTP requests that change
  state, background writes) takes the turn before its first statement, so a read-modify-write
  (`PUT`, a child artifact under its parent) is serialized. The intent covers its first turn only:
  reading back what it wrote after the commit is a reader's work, and holding the write lock for it
  (until the request's session closes) would make every other writer wait for a read.
- A session without intent reads on pooled connections and takes the turn at its first write (a
  flush or an INSERT/UPDATE/DELETE); from then on, every statement of that transaction goes to the
  writer connection.
- The turn ends with the session's transaction (commit, rollback or close).

A session that writes while another session *of the same task* holds the turn waits for itself, as
it would on SQLite's own lock; the wait is bounded by the busy timeout and then raises
`SqliteWriteQueueError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.util import await_only

from chapkit.domain.errors import ServiceUnavailableError

TURN_KEY = "chapkit_sqlite_write_turn"
"""Key of the database's `WriteTurn` in a session's `info`."""

WRITE_INTENT_KEY = "chapkit_write_intent"
"""Key in a session's `info`: true when the session takes the turn before its first statement."""


class SqliteWriteQueueError(ServiceUnavailableError, TimeoutError):
    """A session waited longer than the busy timeout for another session's write transaction (a 503 problem)."""


class WriteTurn:
    """One SQLite file's write turn in this process: a lock, and the connection its holder writes on.

    The connection comes from an engine of its own with one pooled connection, checked out by whoever
    holds the turn and only by them, so it is always free when the turn is. An in-memory database is
    one shared connection (D9): its turn is the lock alone (`engine=None`), so that writers of one
    process never interleave on it, where one writer's rollback would undo another's statements.
    """

    def __init__(self, engine: AsyncEngine | None, timeout: float) -> None:
        """Take turns on `engine` (a one-connection engine whose transactions begin IMMEDIATE), or on the lock alone."""
        self.engine = engine
        self._lock = asyncio.Lock()
        self._connection: AsyncConnection | None = None
        self._holder: asyncio.Task[Any] | None = None
        self._depth = 0
        self.timeout = timeout

    @property
    def shared_connection(self) -> bool:
        """True for an in-memory database: every statement, read or write, takes the turn (see `TurnTakingSession`)."""
        return self.engine is None

    def locked(self) -> bool:
        """True while some writer holds the turn."""
        return self._lock.locked()

    async def acquire(self) -> AsyncConnection | None:
        """Wait for the turn (at most `timeout` seconds) and return the writer connection (None: lock alone).

        A lock-alone turn is re-entrant within one task, so that a request using two sessions (or a
        session and the job store) one after the other on an in-memory database does not wait for itself.
        """
        if self.engine is None and self._holder is not None and self._holder is asyncio.current_task():
            self._depth += 1
            return None
        try:
            async with asyncio.timeout(self.timeout):
                await self._lock.acquire()
        except TimeoutError as error:
            raise SqliteWriteQueueError(
                f"Waited {self.timeout:g} s for another session's SQLite write transaction to end"
            ) from error
        if self.engine is None:
            self._holder, self._depth = asyncio.current_task(), 1
            return None
        try:
            self._connection = await self.engine.connect()
        except BaseException:
            self._lock.release()
            raise
        return self._connection

    def _release_lock(self) -> None:
        if self.engine is None:
            self._depth -= 1
            if self._depth > 0:
                return
            self._holder = None
        self._lock.release()

    def release_in_greenlet(self) -> None:
        """End the turn from SQLAlchemy's synchronous side (inside its greenlet): check the connection in."""
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                connection.sync_connection.close()  # type: ignore[union-attr]
        finally:
            self._release_lock()

    async def release(self) -> None:
        """End the turn; the next writer in line gets it."""
        connection, self._connection = self._connection, None
        try:
            if connection is not None:
                await connection.close()
        finally:
            self._release_lock()

    @asynccontextmanager
    async def held(self) -> AsyncIterator[AsyncConnection | None]:
        """Hold the turn for the block; yields the writer connection (None for a lock-alone turn)."""
        connection = await self.acquire()
        try:
            yield connection
        finally:
            await self.release()


def _is_dml(clause: Any) -> bool:
    return bool(getattr(clause, "is_dml", False))


class TurnTakingSession(Session):
    """The synchronous half of `QueuedWriteSession`: sends statements to the writer while it holds the turn.

    Every statement a session runs asks `get_bind` for its connection, so this one place sees every
    read and write, whichever `AsyncSession` method (or `run_sync`) issued it. It runs inside
    SQLAlchemy's greenlet, where waiting for the turn can be awaited.
    """

    _holds_turn = False
    _writer: Connection | None = None

    def get_bind(self, mapper: Any = None, *, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        """The writer connection when this transaction writes (or the session intends to), else the pool."""
        turn: WriteTurn = self.info[TURN_KEY]
        if not self._holds_turn and (
            turn.shared_connection or self.info.get(WRITE_INTENT_KEY) or self._flushing or _is_dml(clause)
        ):
            writer = await_only(turn.acquire())
            self._holds_turn = True
            self._writer = None if writer is None else writer.sync_connection
        if self._writer is not None:
            return self._writer
        return super().get_bind(mapper, clause=clause, bind=bind, **kw)


@event.listens_for(TurnTakingSession, "after_transaction_end")
def _end_turn(session: TurnTakingSession, transaction: SessionTransaction) -> None:
    """Give the turn back once the session's outermost transaction (and the writer's) has ended."""
    if transaction.parent is None and session._holds_turn:
        session._holds_turn = False
        session._writer = None
        session.info.pop(WRITE_INTENT_KEY, None)  # what follows the write (reading back) is a reader's
        turn: WriteTurn = session.info[TURN_KEY]
        turn.release_in_greenlet()


class QueuedWriteSession(AsyncSession):
    """An `AsyncSession` on an SQLite file whose writes take this process's write turn (see the module)."""

    sync_session_class = TurnTakingSession


__all__ = [
    "TURN_KEY",
    "WRITE_INTENT_KEY",
    "QueuedWriteSession",
    "SqliteWriteQueueError",
    "TurnTakingSession",
    "WriteTurn",
]
