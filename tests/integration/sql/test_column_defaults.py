"""A new row gets its column defaults before its INSERT is built (`fill_insert_defaults`): a plain insert."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, inspect
from sqlalchemy.orm import Mapped, mapped_column
from ulid import ULID

from chapkit import Artifact, Config, Task
from chapkit.adapters.sql import Entity
from chapkit.adapters.sql.schema.defaults import fill_insert_defaults
from chapkit.embedding import Storage, open_storage
from tests.integration.sql.conftest import sync_engines
from tests.support.models import Widget

pytestmark = pytest.mark.integration


def _hundred() -> int:
    return 100


def _twice_the_size(context: Any) -> int:
    size: int = context.get_current_parameters()["size"]
    return 2 * size


class Gadget(Entity):
    """A user's model whose defaults chapkit does not know: they stay the flush's."""

    __tablename__ = "test_insert_default_gadgets"

    size: Mapped[int] = mapped_column(default=_hundred)
    double: Mapped[int] = mapped_column(default=_twice_the_size)


def _inserts(storage: Storage) -> tuple[list[tuple[str, list[str]]], Callable[[], None]]:
    """Record (table, columns whose defaults the flush ran) for each INSERT; the second item stops recording."""
    engines = sync_engines(storage)
    seen: list[tuple[str, list[str]]] = []

    def record(_connection: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            seen.append((statement.split()[2], sorted(column.key for column in context.compiled.insert_prefetch)))

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)

    def stop() -> None:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)

    return seen, stop


async def test_new_entities_get_their_defaults_at_the_flush_before_the_insert(sql_storage: Storage) -> None:
    seen, stop = _inserts(sql_storage)
    try:
        async with sql_storage.unit_of_work() as session:
            config = await session.configs.save(Config(name="c", data={"epochs": 1}))
            root = await session.artifacts.save(Artifact(data="root"))
            task = await session.repository(Task).save(Task(command="echo hi"))
            widget = await session.repository(Widget).save(Widget(name="w"))
            staged = [config, root, task, widget]
            # As in the reference, an id and timestamps appear at the flush, not when an object is staged.
            assert [entity.id for entity in staged] == [None] * 4
            await session.configs.commit()
    finally:
        stop()
    for entity in staged:
        assert isinstance(entity.id, ULID)
        assert entity.created_at is not None and entity.created_at == entity.updated_at
        assert entity.created_at.tzinfo is UTC
    assert root.level == 0 and widget.size == 0 and widget.level == 0
    assert task.enabled is True and task.task_type == "shell"
    # No default was left for the statement to run.
    assert sorted(seen) == sorted([("configs", []), ("artifacts", []), ("tasks", []), ("test_widgets", [])])
    async with sql_storage.unit_of_work() as session:
        for repository, entity in [
            (session.configs, config),
            (session.artifacts, root),
            (session.repository(Task), task),
            (session.repository(Widget), widget),
        ]:
            stored = await repository.find_by_id(entity.id)
            assert stored is not None
            assert (stored.created_at, stored.updated_at) == (entity.created_at, entity.updated_at)


async def test_an_object_added_to_a_session_directly_gets_them_too(sql_storage: Storage) -> None:
    seen, stop = _inserts(sql_storage)
    try:
        async with sql_storage.database.session(write=True) as session:
            widget = Widget(name="added")
            session.add(widget)
            await session.commit()
    finally:
        stop()
    assert seen == [("test_widgets", [])]
    assert isinstance(widget.id, ULID) and widget.created_at == widget.updated_at and widget.size == 0


async def test_values_an_entity_holds_are_kept(sql_storage: Storage) -> None:
    given_id, created = ULID(), datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    async with sql_storage.unit_of_work() as session:
        saved = await session.configs.save(Config(id=given_id, name="c", data={}, created_at=created))
        await session.configs.commit()
    assert (saved.id, saved.created_at, saved.updated_at) == (given_id, created, created)
    async with sql_storage.unit_of_work() as session:
        stored = await session.configs.find_by_id(given_id)
    assert stored is not None and (stored.created_at, stored.updated_at) == (created, created)


def test_defaults_chapkit_does_not_know_are_left_to_the_statement() -> None:
    gadget = Gadget(size=None)
    fill_insert_defaults(inspect(Gadget), None, gadget)
    assert isinstance(gadget.id, ULID) and gadget.created_at == gadget.updated_at
    assert gadget.size is None and gadget.double is None


async def test_a_users_own_defaults_still_run_at_the_flush(tmp_path: Any) -> None:
    async with open_storage(f"sqlite+aiosqlite:///{tmp_path / 'gadgets.db'}") as storage:
        async with storage.unit_of_work() as session:
            gadgets = session.repository(Gadget)
            saved = await gadgets.save(Gadget())
            await gadgets.commit()
        async with storage.unit_of_work() as session:
            stored = await session.repository(Gadget).find_by_id(saved.id)
    assert stored is not None and (stored.size, stored.double) == (100, 200)
    assert stored.created_at == stored.updated_at == saved.created_at
