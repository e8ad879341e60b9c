"""SQLAlchemy's aiosqlite driver, one worker-thread round trip per statement.

aiosqlite runs each SQLite call on the connection's own thread and hands the result back to the
event loop. SQLAlchemy's adapter makes four such round trips per statement (open a cursor, execute,
fetch all rows, close the cursor) and one more to roll back when a session ends, even a session
that only read and so has no SQLite transaction open. Each round trip costs a thread wake-up and an
event-loop turn; under load they, not SQL, were most of a simple GET's time.

This adapter runs a whole statement (cursor, execute, fetch, close) in one call on the thread, and
knows from SQLite (`in_transaction`) whether a transaction is open, so a commit or rollback with
nothing to end costs nothing. A `SELECT` skips the thread altogether: it runs on the event loop's
thread, where its rows are wanted. A read of a local file's pages costs less than the hop to the
thread and back (a thread wake-up, an event-loop wake-up, a greenlet switch each way), which was a
fifth of a simple GET's CPU; in WAL mode a reader does not wait for writers.

A write transaction skips the thread too when it can take SQLite's write lock without waiting: its
`BEGIN IMMEDIATE` is tried on the event loop's thread with no busy timeout, and once the lock is held
no statement of the transaction can wait for another connection, so those with small parameters run
there as well. What may wait or take long still goes to the thread: a `BEGIN` whose lock another
connection (another process) holds, which waits there with the connection's busy timeout; a
statement carrying a large blob (a pickled model); `executemany`; and the commit, which may checkpoint
the WAL. Behaviour is otherwise SQLAlchemy's own: same dialect, same errors. It is chosen for every
aiosqlite engine chapkit creates (`Database` passes it as the DBAPI module).
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import await_only

_Outcome = tuple[Any, list[Any], int, Any, bool]
"""What one statement leaves: description, rows, rowcount, lastrowid, and whether a transaction is open."""


def _run_statement(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool, begin: str | None = None
) -> _Outcome:
    """On the connection's thread: one statement from cursor to close (after `begin`, when one is pending)."""
    cursor = connection.cursor()
    try:
        if begin is not None:
            cursor.execute(begin)
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid, connection.in_transaction
    finally:
        cursor.close()


async def _ready(outcome: _Outcome) -> _Outcome:
    return outcome


def _is_select(operation: Any) -> bool:
    """Whether a statement is a plain read (`SELECT ...`): one that runs on the event loop's thread."""
    return isinstance(operation, str) and operation[:6].upper() == "SELECT"


_SMALL_PARAMETERS = 64 * 1024
"""Bytes of text and blobs up to which a statement of a write transaction runs on the event loop's thread."""


def _small(parameters: Any) -> bool:
    """Whether a statement's parameters carry little text and few bytes (a large blob is written on the thread)."""
    if not parameters:
        return True
    values = parameters.values() if isinstance(parameters, dict) else parameters
    size = 0
    for value in values:
        if isinstance(value, str | bytes | bytearray | memoryview):
            size += len(value)
    return size <= _SMALL_PARAMETERS


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement runs in one round trip; its results are kept on the event loop side."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: OneHopConnection) -> None:
        """Open nothing on the thread: the statement opens and closes its own SQLite cursor."""
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._rows = collections.deque()
        self._soft_closed_memoized = {}  # type: ignore[assignment]
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        """The last statement's column description (None for statements without rows)."""
        return self._description

    @property
    def rowcount(self) -> int:
        """Rows the last statement changed."""
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        """The rowid of the last inserted row."""
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        """Rows `fetchmany` returns by default."""
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _async_soft_close(self) -> None:
        """Nothing is open on the thread between statements."""

    def close(self) -> None:
        """Drop buffered rows (no round trip)."""
        self._rows.clear()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        """Run one statement in one round trip and buffer its rows."""
        return self._run(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        """Run one statement for each parameter set, in one round trip."""
        return self._run(operation, seq_of_parameters, many=True)

    def _run(self, operation: Any, parameters: Any, *, many: bool) -> None:
        connection: OneHopConnection = self._adapt_connection  # type: ignore[assignment]
        begin, connection._pending_begin = connection._pending_begin, None
        try:
            if connection.runs_here(operation, parameters, many, begin):
                # Passed back through the event loop's side as a finished coroutine: no thread, no loop
                # turn, and SQLAlchemy still sees the async round trip it checks for.
                outcome = await_only(_ready(_run_statement(connection._connection._conn, operation, parameters, many)))
            else:
                outcome = await_only(connection.run_statement(operation, parameters, many, begin))
        except Exception as error:
            connection._in_transaction = True  # unknown after a failure: let rollback reach SQLite
            self._adapt_connection._handle_exception(error)
        self._description, rows, self._rowcount, self._lastrowid, connection._in_transaction = outcome
        self._rows = collections.deque(rows)


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """An aiosqlite connection whose cursors are `OneHopCursor`s and whose idle commits and rollbacks are free."""

    __slots__ = ("_in_transaction", "_pending_begin", "_writing_here")

    _cursor_cls = OneHopCursor  # type: ignore[assignment]

    def __init__(self, dbapi: Any, connection: Any) -> None:
        """Wrap an open aiosqlite connection (no transaction is open on a new one)."""
        super().__init__(dbapi, connection)
        self._in_transaction = False
        self._pending_begin: str | None = None
        self._writing_here = False  # the open transaction took the write lock on the event loop's thread

    def runs_here(self, operation: Any, parameters: Any, many: bool, begin: str | None) -> bool:
        """Whether a statement runs on the event loop's thread rather than the connection's own.

        A `SELECT` outside a pending `begin` does. A write transaction does when its `begin` gets the
        write lock at once (`_begin_here`): its statements cannot wait for a lock after that, so the
        ones with small parameters run here too. Whatever may wait or take long stays on the thread:
        a `begin` that must wait for another connection's writer, a statement carrying a large blob,
        `executemany`, and the commit (which may checkpoint the WAL).
        """
        if many or self._execute_mutex.locked():
            return False
        if begin is None:
            return _is_select(operation) or (self._writing_here and _small(parameters))
        return _small(parameters) and self._begin_here(begin)

    def _begin_here(self, begin: str) -> bool:
        """Run `begin` here if SQLite grants its lock without waiting; False (nothing begun) when it would wait."""
        raw = self._connection._conn
        (waits,) = raw.execute("PRAGMA busy_timeout").fetchone()
        raw.execute("PRAGMA busy_timeout=0")
        try:
            raw.execute(begin)
        except sqlite3.OperationalError:  # another connection holds the lock: the thread waits for it
            return False
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(waits)}")
        self._writing_here = True
        return True

    def begin_with_next_statement(self, begin: str) -> None:
        """Send `begin` (`BEGIN IMMEDIATE`) in the same round trip as the transaction's first statement.

        Nothing runs on the connection in between, so the transaction holds what `begin` takes from
        its first statement on, as when `begin` was a round trip of its own. A transaction that ends
        without a statement never begins.
        """
        self._pending_begin = begin

    async def run_statement(self, operation: Any, parameters: Any, many: bool, begin: str | None = None) -> _Outcome:
        """Run `_run_statement` on the connection's thread, one statement at a time."""
        async with self._execute_mutex:
            outcome: _Outcome = await self._connection._execute(
                _run_statement, self._connection._conn, operation, parameters, many, begin
            )
            return outcome

    def cursor(self, server_side: bool = False) -> Any:
        """A cursor; a server-side one may open a transaction this adapter cannot see, so assume it does."""
        if server_side:
            self._in_transaction = True
        return super().cursor(server_side)

    def rollback(self) -> None:
        """Roll back, unless SQLite has no transaction open (a session that only read)."""
        self._pending_begin = None
        self._writing_here = False
        if self._in_transaction:
            super().rollback()
            self._in_transaction = False

    def commit(self) -> None:
        """Commit, unless SQLite has no transaction open."""
        self._pending_begin = None
        self._writing_here = False
        if self._in_transaction:
            super().commit()
            self._in_transaction = False


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect uses, connecting with `OneHopConnection`."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        """Connect as SQLAlchemy's adapter does, then wrap the connection."""
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def one_hop_dbapi() -> OneHopDBAPI:
    """The DBAPI module to pass to `create_async_engine(..., module=...)` for aiosqlite URLs."""
    return OneHopDBAPI(aiosqlite, sqlite3)


__all__ = ["OneHopConnection", "OneHopCursor", "OneHopDBAPI", "one_hop_dbapi"]
