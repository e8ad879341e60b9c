"""The memory adapter's unit of work, checked without any I/O: staging, copies, conflicts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from ulid import ULID

from chapkit import ConflictError, InMemoryDatastore, InMemoryRepository, InvalidULIDError


@dataclass
class Item:
    name: str
    tags: list[str] = field(default_factory=list)
    id: ULID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


async def test_saved_objects_are_copied_in_and_out() -> None:
    database = InMemoryDatastore()
    async with database.session() as session:
        repo: InMemoryRepository[Item] = InMemoryRepository(session, Item)
        item = await repo.save(Item(name="a", tags=["x"]))
        item.tags.append("changed after save")
        await repo.commit()
        found = await repo.find_by_id(item.id)  # type: ignore[arg-type]
        assert found is not None and found.tags == ["x"]
        found.tags.append("changed after read")
        again = await repo.find_by_id(item.id)  # type: ignore[arg-type]
        assert again is not None and again.tags == ["x"] and again is not found


async def test_insert_then_delete_in_one_session_leaves_nothing() -> None:
    database = InMemoryDatastore()
    async with database.session() as session:
        repo: InMemoryRepository[Item] = InMemoryRepository(session, Item)
        item = await repo.save(Item(name="a"))
        await repo.delete(item)
        await repo.commit()
        assert await repo.count() == 0


async def test_a_conflicting_commit_applies_none_of_its_writes() -> None:
    database = InMemoryDatastore()
    shared = ULID()
    async with database.session() as first, database.session() as second:
        first_repo: InMemoryRepository[Item] = InMemoryRepository(first, Item)
        second_repo: InMemoryRepository[Item] = InMemoryRepository(second, Item)
        await second_repo.save(Item(name="unrelated"))
        await second_repo.save(Item(name="second", id=shared))
        await first_repo.save(Item(name="first", id=shared))
        await first_repo.commit()
        with pytest.raises(ConflictError):
            await second_repo.commit()
        assert [i.name for i in await second_repo.find_all()] == ["first"]


async def test_ids_given_as_strings_are_parsed() -> None:
    database = InMemoryDatastore()
    async with database.session() as session:
        repo: InMemoryRepository[Item] = InMemoryRepository(session, Item)
        item = await repo.save(Item(name="a", id=str(ULID())))  # type: ignore[arg-type]
        assert isinstance(item.id, ULID)
        with pytest.raises(InvalidULIDError):
            await repo.save(Item(name="b", id="nope"))  # type: ignore[arg-type]


async def test_dispose_forgets_everything() -> None:
    database = InMemoryDatastore()
    async with database.session() as session:
        repo: InMemoryRepository[Item] = InMemoryRepository(session, Item)
        await repo.save(Item(name="a"))
        await repo.commit()
    await database.dispose()
    async with database.session() as session:
        assert await InMemoryRepository(session, Item).count() == 0
