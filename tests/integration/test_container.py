"""The composition root: URL -> adapters, resources started and stopped, nothing shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from chapkit import InMemoryDatastore, InMemoryRepository, SqliteDatabase, create_container, open_storage
from chapkit.adapters.sql import BaseRepository
from chapkit.bootstrap.containers import start, stop
from tests.support.models import Widget


async def test_memory_url_selects_the_memory_adapters() -> None:
    async with open_storage("memory://") as storage:
        assert isinstance(storage.database, InMemoryDatastore)
        async with storage.session() as session:
            assert isinstance(storage.repository(session, Widget), InMemoryRepository)


async def test_sql_url_selects_sql_adapters_with_options(tmp_path: Path) -> None:
    async with open_storage(f"sqlite:///{tmp_path / 'x.db'}", echo=False, pool_size=2) as storage:
        assert isinstance(storage.database, SqliteDatabase)
        assert storage.database.engine.url.drivername == "sqlite+aiosqlite"
        async with storage.session() as session:
            assert isinstance(storage.repository(session, Widget), BaseRepository)


def test_memory_takes_no_database_options() -> None:
    with pytest.raises(TypeError, match="memory:// takes no database options"):
        create_container("memory://", echo=True)


async def test_stopping_the_container_disposes_the_datastore() -> None:
    container = create_container("memory://")
    await start(container)
    database = await container.storage.database()
    async with database.session() as session:
        repo = container.storage.repository(session, Widget)
        await repo.save(Widget(name="a"))
        await repo.commit()
    await stop(container)
    async with database.session() as session:
        assert await container.storage.repository(session, Widget).count() == 0


async def test_two_containers_share_nothing() -> None:
    async with open_storage() as first, open_storage() as second:
        assert first.database is not second.database
        async with first.session() as session:
            repo = first.repository(session, Widget)
            await repo.save(Widget(name="only in first"))
            await repo.commit()
        async with second.session() as session:
            assert await second.repository(session, Widget).count() == 0
