"""The one-hop aiosqlite adapter: reads, and write transactions that get the lock at once, on the event loop's thread;
a worker-thread round trip for a commit, a BEGIN that must wait, a large blob; none for idle commits and rollbacks."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiosqlite import Connection as AiosqliteConnection
from sqlalchemy import func, insert, select, text, update

from chapkit import SqliteDatabase
from chapkit.adapters.sql.database import SQLITE_BUSY_TIMEOUT_MS
from chapkit.adapters.sql.sqlite_driver import OneHopConnection
from tests.support.models import Widget

IDS = ["01ARZ3NDEKTSV4RRFFQ69G5FA0", "01ARZ3NDEKTSV4RRFFQ69G5FA1", "01ARZ3NDEKTSV4RRFFQ69G5FA2"]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    db = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", pool_size=1)
    await db.init()
    yield db
    await db.dispose()


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the functions each aiosqlite round trip ran on the connection's thread."""
    seen: list[str] = []
    original = AiosqliteConnection._execute

    async def counting(self: AiosqliteConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(AiosqliteConnection, "_execute", counting)
    return seen


async def store_first(database: SqliteDatabase) -> None:
    """Store widget "first" (IDS[1]) in a write session: the writer connection is open after it."""
    async with database.session(write=True) as session:
        session.add(Widget(id=IDS[1], name="first"))
        await session.commit()


async def test_engines_use_the_one_hop_connection(database: SqliteDatabase) -> None:
    async with database.engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.dbapi_connection, OneHopConnection)


async def test_a_read_only_session_makes_no_worker_thread_round_trip(
    database: SqliteDatabase, round_trips: list[str]
) -> None:
    async with database.session() as session:
        await session.scalar(select(func.count()).select_from(Widget))  # warm the pool
    round_trips.clear()
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Widget)) == 0
        assert await session.get(Widget, IDS[0]) is None
        assert (await session.execute(text("SELECT count(*) FROM test_widgets"))).scalar() == 0
    async with database.engine.connect() as connection:  # an engine's read (AsyncConnection checks for an await)
        assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    assert round_trips == []  # SELECTs run on the event loop's thread; no cursor, fetch, close or rollback trips


async def test_a_writer_takes_the_free_write_lock_on_the_event_loop_and_commits_on_the_thread(
    database: SqliteDatabase, round_trips: list[str], tmp_path: Path
) -> None:
    await store_first(database)  # the writer connection is open
    round_trips.clear()
    async with database.session(write=True) as session:
        assert await session.get(Widget, IDS[0]) is None  # the first statement: BEGIN IMMEDIATE goes with it
        neighbour = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                neighbour.execute("BEGIN IMMEDIATE")
        finally:
            neighbour.close()
        session.add(Widget(id=IDS[0], name="w"))
        await session.commit()
    assert round_trips == ["commit"]  # BEGIN, SELECT and INSERT ran here; the COMMIT (may checkpoint) on the thread
    async with database.session() as session:
        assert (await session.scalars(select(Widget.name).order_by(Widget.name))).all() == ["first", "w"]
        assert await session.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS


async def test_a_writer_waits_for_another_connections_lock_on_the_thread(
    database: SqliteDatabase, round_trips: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store_first(database)  # the writer connection is open
    neighbour = sqlite3.connect(tmp_path / "driver.db", timeout=0, isolation_level=None)
    neighbour.execute("BEGIN IMMEDIATE")
    round_trips.clear()
    sent = AiosqliteConnection._execute

    async def release_once_sent(self: AiosqliteConnection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # The neighbour lets go only once the writer's BEGIN is on its way to the thread, from the event
        # loop: which must be free while the thread waits, or the writer would wait for good.
        asyncio.get_running_loop().call_soon(neighbour.rollback)
        return await sent(self, fn, *args, **kwargs)

    monkeypatch.setattr(AiosqliteConnection, "_execute", release_once_sent)
    try:
        async with database.session(write=True) as session:
            session.add(Widget(id=IDS[0], name="after the neighbour"))
            await session.commit()
    finally:
        neighbour.close()
    assert round_trips == ["_run_statement", "commit"]  # (BEGIN IMMEDIATE + INSERT) waited on the thread
    async with database.session() as session:
        assert await session.scalar(text("PRAGMA busy_timeout")) == SQLITE_BUSY_TIMEOUT_MS  # restored
        assert (await session.scalars(select(Widget.name).order_by(Widget.name))).all() == [
            "after the neighbour",
            "first",
        ]


async def test_a_statement_with_a_large_blob_is_written_on_the_thread(
    database: SqliteDatabase, round_trips: list[str]
) -> None:
    await store_first(database)  # the writer connection is open
    round_trips.clear()
    async with database.session(write=True) as session:
        session.add(Widget(id=IDS[0], name="large", note="x" * 100_000))
        await session.commit()
    assert round_trips == ["_run_statement", "commit"]
    round_trips.clear()
    async with database.session(write=True) as session:
        assert await session.get(Widget, IDS[2]) is None  # begun here: the large statement still goes to the thread
        session.add(Widget(id=IDS[2], name="later", note="y" * 100_000))
        await session.commit()
    assert round_trips == ["_run_statement", "commit"]


async def test_rows_rowcount_and_executemany_behave_as_sqlite3(database: SqliteDatabase) -> None:
    async with database.write_transaction() as connection:
        await connection.execute(insert(Widget), [{"id": id_, "name": f"w{n}", "size": n} for n, id_ in enumerate(IDS)])
        changed = await connection.execute(update(Widget).where(Widget.size > 0).values(level=7))
        assert changed.rowcount == 2
        rows = (await connection.execute(select(Widget.name, Widget.level).order_by(Widget.name))).all()
        assert [tuple(row) for row in rows] == [("w0", 0), ("w1", 7), ("w2", 7)]
        result = await connection.execute(text("SELECT name FROM test_widgets ORDER BY name"))
        assert [[row[0] for row in part] for part in result.partitions(2)] == [["w0", "w1"], ["w2"]]


async def test_a_statement_that_fails_inside_a_transaction_is_rolled_back(database: SqliteDatabase) -> None:
    async with database.session() as session:
        session.add(Widget(id=IDS[0], name="first"))
        await session.commit()
    async with database.session() as session:
        session.add(Widget(id=IDS[0], name="duplicate"))
        with pytest.raises(Exception, match="UNIQUE"):
            await session.commit()
    async with database.engine.connect() as connection:  # the one pooled connection, back from the failure
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        assert raw.driver_connection.in_transaction is False
    async with database.session() as session:
        assert (await session.scalars(select(Widget.name))).all() == ["first"]
