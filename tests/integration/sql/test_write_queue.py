"""The SQLite write queue: writers of one process take turns instead of meeting SQLite's busy back-off."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from chapkit import SqliteDatabase
from chapkit.adapters.sql.write_queue import WRITE_LOCK_KEY, QueuedWriteSession, SqliteWriteQueueError
from tests.support.models import Widget


@pytest.fixture
async def database(tmp_path: Path) -> SqliteDatabase:
    db = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    await db.init()
    return db


async def test_file_sessions_queue_and_memory_sessions_do_not(database: SqliteDatabase) -> None:
    async with database.session() as session:
        assert isinstance(session, QueuedWriteSession)
    memory = SqliteDatabase("sqlite+aiosqlite:///:memory:")
    async with memory.session() as session:
        assert not isinstance(session, QueuedWriteSession)
    await memory.dispose()
    await database.dispose()


async def test_second_writer_waits_for_the_first_commit(database: SqliteDatabase) -> None:
    order: list[str] = []

    async def first() -> None:
        async with database.session() as session:
            session.add(Widget(name="first"))
            await session.flush()
            order.append("first flushed")
            await asyncio.sleep(0.1)
            order.append("first commits")
            await session.commit()

    async def second() -> None:
        await asyncio.sleep(0.02)
        async with database.session() as session:
            session.add(Widget(name="second"))
            await session.commit()
            order.append("second committed")

    await asyncio.gather(first(), second())
    assert order == ["first flushed", "first commits", "second committed"]
    await database.dispose()


async def test_readers_do_not_wait_for_a_writer(database: SqliteDatabase) -> None:
    async with database.session() as writer:
        writer.add(Widget(name="pending"))
        await writer.flush()
        async with database.session() as reader:
            started = time.perf_counter()
            assert await reader.get(Widget, "01ARZ3NDEKTSV4RRFFQ69G5FAV") is None
            assert time.perf_counter() - started < 1
        await writer.rollback()
    await database.dispose()


async def test_a_session_leaves_the_queue_on_rollback_and_close(database: SqliteDatabase) -> None:
    async with database.session() as session:
        session.add(Widget(name="discarded"))
        await session.flush()
    lock, _ = database._session_factory.kw["info"][WRITE_LOCK_KEY]
    assert not lock.locked()
    async with database.session() as session:
        session.add(Widget(name="kept"))
        await session.flush()
        await session.rollback()
        assert not lock.locked()
    await database.dispose()


async def test_waiting_longer_than_the_busy_timeout_raises(database: SqliteDatabase) -> None:
    lock, _ = database._session_factory.kw["info"][WRITE_LOCK_KEY]
    database._session_factory.kw["info"][WRITE_LOCK_KEY] = (lock, 0.05)
    async with database.session() as holder:
        holder.add(Widget(name="holder"))
        await holder.flush()
        async with database.session() as waiter:
            waiter.add(Widget(name="waiter"))
            with pytest.raises(SqliteWriteQueueError, match=r"Waited 0\.05 s"):
                await waiter.commit()
        await holder.commit()
    await database.dispose()


async def test_many_concurrent_writers_all_succeed(database: SqliteDatabase) -> None:
    async def write(index: int) -> None:
        async with database.session() as session:
            session.add(Widget(name=f"w{index}"))
            await session.commit()

    await asyncio.gather(*(write(i) for i in range(16 * 8)))
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Widget)) == 16 * 8
    await database.dispose()
