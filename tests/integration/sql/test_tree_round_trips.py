"""Statements SQL sends: tree reads a constant number whatever the tree, saves no read-back of what they wrote."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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
from chapkit.embedding import Storage
from tests.integration.sql.conftest import sync_engines
from tests.support.artifacts import ModelConfig, chain
from tests.support.models import Widget, WidgetIn, WidgetOut

HIERARCHY = ArtifactHierarchy(name="ml")


async def statements(storage: Storage, work: Callable[[Any], Awaitable[Any]], *, kind: str = "") -> int:
    """How many SQL statements `work(session)` sends; with `kind` (`SELECT`, say), how many of that kind.

    With a kind, the writer's engine of an SQLite file (where its writes go) is counted too.
    """
    engines = sync_engines(storage, writer=bool(kind))
    sent = 0

    def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal sent
        sent += not kind or statement.lstrip().upper().startswith(kind)

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

    # The flush wrote every value the response shows: nothing is read back.
    assert await statements(sql_storage, save_config, kind="SELECT") == 0
    # The child's parent is read once, for its level; nothing is read back.
    assert await statements(sql_storage, save_child, kind="SELECT") == 1
    # A user's own table may hold what the flush did not write (server defaults, lossy types): reloaded.
    assert await statements(sql_storage, save_widget, kind="SELECT") == 1
