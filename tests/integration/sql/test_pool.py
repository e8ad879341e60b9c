"""The fair pool: a connection coming back goes to the checkout that waited longest, never to a newcomer."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from chapkit import SqliteDatabase
from chapkit.adapters.sql.pool import FairAsyncQueue, FairAsyncQueuePool


async def test_a_returned_connection_goes_to_the_first_waiter_not_to_a_newcomer(tmp_path: Path) -> None:
    database = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=1)
    pool = database.engine.pool
    assert isinstance(pool, FairAsyncQueuePool)
    queue = pool._pool
    assert isinstance(queue, FairAsyncQueue)
    order: list[str] = []

    async def checkout(name: str) -> None:
        async with database.engine.connect():
            order.append(name)

    held = await database.engine.connect()  # the only connection
    first = asyncio.create_task(checkout("waited first"))
    while not queue._waiters:  # noqa: ASYNC110  (until it waits in line: the queue has no event to await)
        await asyncio.sleep(0)
    await held.close()  # handed to the waiter, not left for whoever asks next
    await checkout("came later")  # runs before the waiter is scheduled, and still queues behind it
    await first
    assert order == ["waited first", "came later"]
    await database.dispose()


async def test_a_checkout_that_times_out_leaves_the_line(tmp_path: Path) -> None:
    database = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=1)
    database.engine.pool._timeout = 0.05  # type: ignore[attr-defined]
    held = await database.engine.connect()
    try:
        await database.engine.connect()
    except Exception as error:
        assert "timed out" in str(error).lower() or "timeout" in type(error).__name__.lower()
    else:
        raise AssertionError("the second checkout should have timed out")
    await held.close()
    async with database.engine.connect():  # the connection went back to the pool, not to the gone waiter
        pass
    await database.dispose()


async def test_the_pool_logs_as_sqlalchemys_own_pool(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Its lines follow SQLAlchemy's logging settings: nothing at INFO ("Pool disposed") unless asked for."""
    database = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    async with database.engine.connect():
        pass
    assert database.engine.pool.logger.name.startswith("sqlalchemy.pool.")
    with caplog.at_level(logging.INFO):
        await database.dispose()
    assert not [record for record in caplog.records if "Pool" in record.getMessage()]
