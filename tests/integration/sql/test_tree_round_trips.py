"""Tree reads on SQL cost a constant number of statements, whatever the depth or size of the tree."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import event
from ulid import ULID

from chapkit import ArtifactHierarchy, ArtifactManager, Config, ConfigManager
from chapkit.embedding import Storage, open_storage
from tests.conftest import truncate
from tests.support.artifacts import ModelConfig, chain

HIERARCHY = ArtifactHierarchy(name="ml")


@pytest.fixture(params=["sqlite_file", "postgres"])
async def sql_storage(request: pytest.FixtureRequest) -> AsyncIterator[Storage]:
    url = request.getfixturevalue("sqlite_file_url" if request.param == "sqlite_file" else "postgres_url")
    async with open_storage(url) as opened:
        await truncate(opened.database)
        yield opened


async def statements(storage: Storage, work: Callable[[Any], Awaitable[Any]]) -> int:
    """How many SQL statements `work(session)` sends."""
    engine: Any = storage.database.engine  # type: ignore[attr-defined]
    sent = 0

    def count(*_: Any) -> None:
        nonlocal sent
        sent += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        async with storage.unit_of_work() as session:
            await work(session)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
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
