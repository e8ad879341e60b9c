"""The composition root: URL -> adapters, resources started and stopped, nothing shared."""

from __future__ import annotations

from pathlib import Path

import pytest

from chapkit import (
    ArtifactIn,
    ConfigIn,
    InMemoryDatastore,
    InMemoryRepository,
    SqliteDatabase,
    create_container,
    open_storage,
)
from chapkit.adapters.sql import BaseRepository
from chapkit.bootstrap.containers import start, stop
from tests.support.artifacts import ModelConfig
from tests.support.models import Widget, WidgetIn, WidgetOut


async def test_memory_url_selects_the_memory_adapters() -> None:
    async with open_storage("memory://") as storage:
        assert isinstance(storage.database, InMemoryDatastore)
        async with storage.unit_of_work() as session:
            assert isinstance(session.repository(Widget), InMemoryRepository)


async def test_sql_url_selects_sql_adapters_with_options(tmp_path: Path) -> None:
    async with open_storage(f"sqlite:///{tmp_path / 'x.db'}", echo=False, pool_size=2) as storage:
        assert isinstance(storage.database, SqliteDatabase)
        assert storage.database.engine.url.drivername == "sqlite+aiosqlite"
        async with storage.unit_of_work() as session:
            assert isinstance(session.repository(Widget), BaseRepository)


def test_memory_takes_no_database_options() -> None:
    with pytest.raises(TypeError, match="memory:// takes no database options"):
        create_container("memory://", echo=True)


async def test_stopping_the_container_disposes_the_datastore() -> None:
    container = create_container("memory://")
    await start(container)
    database = await container.storage.database()
    async with container.unit_of_work(write=True) as uow:
        await uow.repository(Widget).save(Widget(name="a"))
        await uow.commit()
    await stop(container)
    async with database.unit_of_work() as uow:
        assert await uow.repository(Widget).count() == 0


async def test_two_containers_share_nothing() -> None:
    async with open_storage() as first, open_storage() as second:
        assert first.database is not second.database
        async with first.unit_of_work(write=True) as uow:
            await uow.repository(Widget).save(Widget(name="only in first"))
            await uow.commit()
        async with second.unit_of_work() as uow:
            assert await uow.repository(Widget).count() == 0


async def test_the_container_builds_managers_from_a_unit_of_work() -> None:
    async with open_storage() as storage:
        async with storage.unit_of_work(write=True) as uow:
            configs = storage.config_manager(uow, ModelConfig)
            saved = await configs.save(ConfigIn[ModelConfig](name="m", data=ModelConfig(epochs=3)))
            artifacts = storage.artifact_manager(uow)
            root = await artifacts.save(ArtifactIn(data={"weights": [1, 2]}))
            await configs.link_artifact(saved.id, root.id)
            widgets = storage.manager(uow, Widget, WidgetOut)
            widget = await widgets.save(WidgetIn(name="w"))
        async with storage.unit_of_work() as uow:
            assert await storage.config_manager(uow, ModelConfig).find_by_id(saved.id) is not None
            assert await storage.manager(uow, Widget, WidgetOut).find_by_id(widget.id) is not None


async def test_a_given_datastore_is_initialised_and_left_open() -> None:
    datastore = InMemoryDatastore()
    container = create_container(datastore=datastore)
    await start(container)
    async with container.unit_of_work(write=True) as uow:
        await uow.repository(Widget).save(Widget(name="kept"))
        await uow.commit()
    await stop(container)
    async with datastore.unit_of_work() as uow:
        assert await uow.repository(Widget).count() == 1
