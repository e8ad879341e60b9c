"""The SQLite write turn: writers of one process take turns on a connection of their own (see write_queue)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from chapkit import SqliteDatabase
from chapkit.adapters.sql.write_queue import QueuedWriteSession, SqliteWriteQueueError, WriteTurn
from tests.support.models import Widget


@pytest.fixture
async def database(tmp_path: Path) -> SqliteDatabase:
    db = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    await db.init()
    return db


def _turn(database: SqliteDatabase) -> WriteTurn:
    return database._turn


async def _count(database: SqliteDatabase) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Widget)) or 0)


async def test_file_and_memory_sessions_take_turns(database: SqliteDatabase) -> None:
    async with database.session() as session:
        assert isinstance(session, QueuedWriteSession)
    memory = SqliteDatabase("sqlite+aiosqlite:///:memory:")
    async with memory.session() as session:
        assert isinstance(session, QueuedWriteSession)  # on the lock alone: one shared connection (D9)
        assert memory._turn.engine is None
    await memory.dispose()
    await database.dispose()


async def test_second_writer_waits_for_the_first_commit(database: SqliteDatabase) -> None:
    order: list[str] = []
    first_flushed = asyncio.Event()

    async def first() -> None:
        async with database.session() as session:
            session.add(Widget(name="first"))
            await session.flush()
            order.append("first flushed")
            first_flushed.set()
            await asyncio.sleep(0.05)  # the second writer is queued by now; it must not overtake
            order.append("first commits")
            await session.commit()

    async def second() -> None:
        await first_flushed.wait()
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
        assert _turn(database).locked()
        async with database.session() as reader:  # would wait for the writer's rollback if readers queued
            assert await reader.get(Widget, "01ARZ3NDEKTSV4RRFFQ69G5FAV") is None
            assert await reader.scalar(select(func.count()).select_from(Widget)) == 0  # nothing uncommitted
        await writer.rollback()
    await database.dispose()


async def test_the_turn_ends_with_rollback_close_and_commit(database: SqliteDatabase) -> None:
    turn = _turn(database)
    async with database.session() as session:
        session.add(Widget(name="discarded"))
        await session.flush()
        assert turn.locked()
    assert not turn.locked()
    async with database.session() as session:
        session.add(Widget(name="rolled back"))
        await session.flush()
        await session.rollback()
        assert not turn.locked()
        session.add(Widget(name="kept"))
        await session.commit()
        assert not turn.locked()
    assert await _count(database) == 1
    await database.dispose()


async def test_a_session_that_only_reads_never_takes_the_turn(database: SqliteDatabase) -> None:
    async with database.session() as session:
        await session.scalar(select(func.count()).select_from(Widget))
        assert not _turn(database).locked()
    await database.dispose()


async def test_write_intent_takes_the_turn_before_the_first_read(database: SqliteDatabase) -> None:
    async with database.session(write=True) as session:
        await session.scalar(select(func.count()).select_from(Widget))
        assert _turn(database).locked()
        await session.commit()
        assert not _turn(database).locked()
    await database.dispose()


async def test_write_intent_covers_the_first_turn_only(database: SqliteDatabase) -> None:
    turn = _turn(database)
    async with database.session(write=True) as session:
        session.add(Widget(name="written"))
        await session.commit()
        assert (await session.scalars(select(Widget.name))).all() == ["written"]  # reading back: no turn
        assert not turn.locked()
    async with database.session(write=True) as session:  # the next session has its own intent
        await session.scalar(select(func.count()).select_from(Widget))
        assert turn.locked()
    assert not turn.locked()
    await database.dispose()


async def test_write_intent_serializes_read_modify_write(database: SqliteDatabase) -> None:
    async with database.session() as session:
        session.add(Widget(name="counter", size=0))
        await session.commit()

    async def increment() -> None:
        async with database.session(write=True) as session:
            widget = (await session.scalars(select(Widget))).one()
            seen = widget.size
            await asyncio.sleep(0)  # let every other incrementer read, if it could
            await session.execute(update(Widget).values(size=seen + 1))
            await session.commit()

    await asyncio.gather(*(increment() for _ in range(12)))
    async with database.session() as session:
        assert (await session.scalars(select(Widget.size))).one() == 12
    await database.dispose()


async def test_waiting_longer_than_the_busy_timeout_raises(database: SqliteDatabase) -> None:
    _turn(database).timeout = 0.05
    async with database.session() as holder:
        holder.add(Widget(name="holder"))
        await holder.flush()
        async with database.session() as waiter:
            waiter.add(Widget(name="waiter"))
            with pytest.raises(SqliteWriteQueueError, match=r"Waited 0\.05 s"):
                await waiter.commit()
        await holder.commit()
    assert await _count(database) == 1
    await database.dispose()


async def test_many_concurrent_writers_all_succeed(database: SqliteDatabase) -> None:
    async def write(index: int) -> None:
        async with database.session() as session:
            session.add(Widget(name=f"w{index}"))
            await session.commit()

    await asyncio.gather(*(write(i) for i in range(16 * 8)))
    assert await _count(database) == 16 * 8
    await database.dispose()


async def test_readers_that_then_write_never_starve_the_turn_of_connections(tmp_path: Path) -> None:
    """The old lock order: sessions that read first held every pooled connection while waiting for the
    turn, and the turn's holder waited for a pooled connection. Now the turn brings its own connection."""
    database = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=2)
    await database.init()
    _turn(database).timeout = 10  # a deadlock would raise here instead of hanging the test
    all_reading = asyncio.Barrier(2)

    async def read_then_write(index: int) -> None:
        async with database.session() as session:
            await session.scalar(select(func.count()).select_from(Widget))  # holds a pooled connection
            if index < 2:
                await all_reading.wait()  # both pooled connections are now held by would-be writers
            session.add(Widget(name=f"r{index}"))
            await session.commit()

    async def write_only(index: int) -> None:
        async with database.session() as session:
            session.add(Widget(name=f"w{index}"))
            await session.commit()

    async def engine_write() -> None:
        async with database.write_transaction() as connection:
            await connection.execute(Widget.__table__.insert().values(id="01ARZ3NDEKTSV4RRFFQ69G5FAV", name="e"))

    await asyncio.gather(*(read_then_write(i) for i in range(8)), *(write_only(i) for i in range(8)), engine_write())
    assert await _count(database) == 17
    await database.dispose()


async def test_engine_writers_wait_for_their_turn_too(database: SqliteDatabase) -> None:
    order: list[str] = []
    flushed = asyncio.Event()

    async def session_writer() -> None:
        async with database.session() as session:
            session.add(Widget(name="from a session"))
            await session.flush()
            order.append("session flushed")
            flushed.set()
            await asyncio.sleep(0.05)
            await session.commit()
            order.append("session committed")

    async def engine_writer() -> None:
        await flushed.wait()
        async with database.write_transaction() as connection:
            order.append("engine writes")
            await connection.execute(Widget.__table__.delete())

    await asyncio.gather(session_writer(), engine_writer())
    assert order == ["session flushed", "session committed", "engine writes"]
    assert await _count(database) == 0
    await database.dispose()


async def test_writers_on_memory_take_turns_so_one_rollback_never_undoes_another(tmp_path: Path) -> None:
    """`:memory:` is one connection for every session: two writers interleaving there would share one
    SQLite transaction, and the first rollback would undo both (job records went missing that way)."""
    memory = SqliteDatabase("sqlite+aiosqlite:///:memory:")
    await memory.init()
    flushed = asyncio.Event()

    async def failing_writer() -> None:
        async with memory.session() as session:
            session.add(Widget(name="rolled back"))
            await session.flush()
            flushed.set()
            await asyncio.sleep(0.05)  # the engine writer is waiting for the turn now
            await session.rollback()

    async def engine_writer() -> None:
        await flushed.wait()
        async with memory.write_transaction() as connection:
            await connection.execute(Widget.__table__.insert().values(id="01ARZ3NDEKTSV4RRFFQ69G5FAV", name="kept"))

    await asyncio.gather(failing_writer(), engine_writer())
    async with memory.session() as session:
        assert (await session.scalars(select(Widget.name))).all() == ["kept"]
    await memory.dispose()
