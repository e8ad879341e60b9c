"""Statements SQL sends: tree reads a constant number whatever the tree, saves no read-back of what they wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event
from ulid import ULID

from chapkit import (
    ArtifactHierarchy,
    ArtifactIn,
    ArtifactManager,
    BaseManager,
    Config,
    ConfigIn,
    ConfigManager,
)
from chapkit.embedding import Storage, open_storage
from tests.conftest import truncate
from tests.support.artifacts import ModelConfig, chain
from tests.support.models import Widget, WidgetIn, WidgetOut

HIERARCHY = ArtifactHierarchy(name="ml")


@pytest.fixture(params=["sqlite_file", "postgres"])
async def sql_storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    url = request.getfixturevalue("sqlite_file_url" if request.param == "sqlite_file" else "postgres_url")
    async with open_storage(url) as opened:
        await truncate(opened.database)
        yield opened


async def statements(storage: Storage, work: Callable[[Any], Awaitable[Any]]) -> int:
    """How many SQL statements `work(session)` sends (an SQLite file's writes go to its writer's engine)."""
    database: Any = storage.database
    turn = getattr(database, "_turn", None)
    engines = [database.engine.sync_engine] + ([turn.engine.sync_engine] if turn and turn.engine else [])
    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        async with storage.unit_of_work() as session:
            await work(session)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    return sent


async def test_tree_reads_and_config_of_an_artifact_do_not_grow_with_the_tree(sql_storage: Storage) -> None:
    short, long = await chain(sql_storage, 3), await chain(sql_storage, 300)
    async with sql_storage.unit_of_work() as session:
        configs = session.configs
        config = await configs.save(Config(name="c", data={"epochs": 1}))
        await configs.commit()
        assert config.id is not None
        for ids in (short, long):
            await configs.link_artifact(config.id, ids[0])
        await configs.commit()

    def reads(ids: list[ULID]) -> list[Callable[[Any], Awaitable[Any]]]:
        def artifacts(session: Any) -> ArtifactManager:
            repo = session.artifacts
            return ArtifactManager(repo, hierarchy=HIERARCHY, config_repo=session.configs)

        async def root(session: Any) -> None:
            found = await session.artifacts.get_root_artifact(ids[-1])
            assert found is not None and found.id == ids[0]

        async def tree(session: Any) -> None:
            built = await artifacts(session).build_tree(ids[0])
            assert built is not None and built.config is not None

        async def config_of_leaf(session: Any) -> None:
            manager = ConfigManager[ModelConfig](session.configs, ModelConfig)
            found = await manager.get_config_for_artifact(ids[-1], session.artifacts)
            assert found is not None and found.data.epochs == 1

        return [root, tree, config_of_leaf]

    for small, large in zip(reads(short), reads(long), strict=True):
        assert await statements(sql_storage, small) == await statements(sql_storage, large) <= 2


async def test_a_save_of_chapkits_own_entities_reads_nothing_back_and_a_users_entity_is_reloaded(
    sql_storage: Storage,
) -> None:
    async def save_config(session: Any) -> None:
        await ConfigManager[ModelConfig](session.configs, ModelConfig).save(
            ConfigIn[ModelConfig](name="c", data=ModelConfig(epochs=1))
        )

    async def save_child(session: Any) -> None:
        manager = ArtifactManager(session.artifacts, hierarchy=HIERARCHY)
        root = await manager.save(ArtifactIn(data="root"))
        await manager.save(ArtifactIn(data="child", parent_id=root.id))

    async def save_widget(session: Any) -> None:
        await BaseManager(session.repository(Widget), Widget, WidgetOut).save(WidgetIn(name="w"))

    # INSERT (and COMMIT, which no cursor carries): the flush wrote every value the response shows.
    assert await statements(sql_storage, save_config) == 1
    # The root: INSERT; the child: its parent's level, INSERT. No reload, no second read of the parent.
    assert await statements(sql_storage, save_child) == 3
    # A user's own table may hold what the flush did not write (server defaults, lossy types): reloaded.
    assert await statements(sql_storage, save_widget) == 2
