"""The repository port's contract, run unchanged on memory, SQLite (memory, file) and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC

import pytest
from ulid import ULID

from chapkit import ConflictError, InvalidULIDError, NotFoundError
from chapkit.embedding import Storage
from tests.support.models import Widget


async def _insert(storage: Storage, *widgets: Widget) -> list[Widget]:
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        saved = list(await repo.save_all(widgets))
        await repo.commit()
        await repo.refresh_many(saved)
        return saved


async def _all(storage: Storage) -> list[Widget]:
    async with storage.unit_of_work() as session:
        return list(await session.repository(Widget).find_all())


async def test_save_assigns_id_and_equal_utc_timestamps(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="a", size=1))
    assert isinstance(widget.id, ULID)
    assert widget.created_at.tzinfo is not None and widget.created_at.utcoffset() == UTC.utcoffset(None)
    assert widget.created_at == widget.updated_at
    [stored] = await _all(storage)
    assert (stored.id, stored.name, stored.size) == (widget.id, "a", 1)
    assert stored.created_at == widget.created_at
    assert stored.created_at.microsecond == widget.created_at.microsecond


async def test_update_through_save_changes_updated_at_only(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="a"))
    await asyncio.sleep(0.002)
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        loaded = await repo.find_by_id(widget.id)
        assert loaded is not None
        loaded.size = 7
        await repo.save(loaded)
        await repo.commit()
    [stored] = await _all(storage)
    assert stored.size == 7
    assert stored.created_at == widget.created_at
    assert stored.updated_at > widget.updated_at


async def test_save_of_new_object_with_stored_id_updates_it(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="old", size=1))
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        await repo.save(Widget(id=widget.id, name="new", size=2))
        await repo.commit()
    [stored] = await _all(storage)
    assert (stored.id, stored.name, stored.size) == (widget.id, "new", 2)
    assert stored.created_at == widget.created_at


async def test_valid_ulid_strings_are_accepted_as_ids(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="a"))
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        found = await repo.find_by_id(str(widget.id))  # type: ignore[arg-type]
        assert found is not None and found.id == widget.id
        assert await repo.exists_by_id(str(widget.id))  # type: ignore[arg-type]


@pytest.mark.parametrize("operation", ["find_by_id", "exists_by_id", "delete_by_id"])
async def test_invalid_ulid_strings_raise_invalid_ulid(storage: Storage, operation: str) -> None:
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        with pytest.raises(InvalidULIDError):
            await getattr(repo, operation)("not-a-ulid")


async def test_rollback_and_closing_discard_uncommitted_writes(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        await repo.save(Widget(name="rolled back"))
        await repo.rollback()
        await repo.save(Widget(name="never committed"))
    assert await _all(storage) == []


async def test_mutating_a_returned_object_changes_nothing_stored(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="a", size=1))
    async with storage.unit_of_work() as session:
        found = await session.repository(Widget).find_by_id(widget.id)
        assert found is not None
        found.size = 99
    [stored] = await _all(storage)
    assert stored.size == 1


@pytest.mark.concurrent_sessions
async def test_writes_are_invisible_to_other_sessions_until_commit(storage: Storage) -> None:
    async with storage.unit_of_work() as writer_session, storage.unit_of_work() as reader_session:
        writer = writer_session.repository(Widget)
        reader = reader_session.repository(Widget)
        widget = await writer.save(Widget(name="pending"))
        assert await writer.count() == 1
        assert await reader.count() == 0
        await writer.commit()
        assert await reader.count() == 1
        assert await reader.exists_by_id(widget.id)


@pytest.mark.concurrent_sessions
async def test_two_sessions_inserting_one_id_conflict(storage: Storage) -> None:
    shared_id = ULID()
    async with storage.unit_of_work() as first_session, storage.unit_of_work() as second_session:
        first = first_session.repository(Widget)
        second = second_session.repository(Widget)
        await first.save(Widget(id=shared_id, name="first"))
        await second.save(Widget(id=shared_id, name="second"))
        await first.commit()
        with pytest.raises(ConflictError):
            await second.commit()
    [stored] = await _all(storage)
    assert stored.name == "first"


async def test_lists_are_ordered_by_id(storage: Storage) -> None:
    ids = sorted(ULID() for _ in range(5))
    await _insert(storage, *[Widget(id=i, name=str(n)) for n, i in reversed(list(enumerate(ids)))])
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        assert [w.id for w in await repo.find_all()] == ids
        assert [w.id for w in await repo.find_all_paginated(1, 2)] == ids[1:3]
        assert [w.id for w in await repo.find_all_paginated(4, 10)] == ids[4:]
        assert await repo.find_all_paginated(10, 10) == []
        assert [w.id for w in await repo.find_all_by_id([ids[3], ids[0], ULID()])] == [ids[0], ids[3]]
        assert await repo.find_all_by_id([]) == []


async def test_a_page_comes_with_the_total(storage: Storage) -> None:
    ids = sorted(ULID() for _ in range(5))
    await _insert(storage, *[Widget(id=i, name=str(n)) for n, i in enumerate(ids)])
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        last = (2**53 - 1) * 100  # the offset of the last page a client may ask for: past 32 bits
        pages = [(0, 2, ids[:2]), (1, 2, ids[1:3]), (4, 10, ids[4:]), (5, 3, []), (last, 100, [])]
        for offset, limit, expected in pages:
            entities, total = await repo.find_page(offset, limit)
            assert ([w.id for w in entities], total) == (expected, 5)
        await repo.save(Widget(name="staged"))  # unflushed: the page and the total both see it
        entities, total = await repo.find_page(0, 10)
        assert (len(entities), total) == (6, 6)
    async with storage.unit_of_work() as session:  # the staged one was rolled back
        entities, total = await session.repository(Widget).find_page(0, 10)
        assert ([w.id for w in entities], total) == (ids, 5)


async def test_count_exists_and_missing_ids(storage: Storage) -> None:
    [a, _b] = await _insert(storage, Widget(name="a"), Widget(name="b"))
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        assert await repo.count() == 2
        assert await repo.exists_by_id(a.id)
        assert not await repo.exists_by_id(ULID())
        assert await repo.find_by_id(ULID()) is None


async def test_delete_variants(storage: Storage) -> None:
    a, b, c, d = await _insert(storage, *[Widget(name=n) for n in "abcd"])
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        found = await repo.find_by_id(a.id)
        assert found is not None
        await repo.delete(found)
        await repo.delete_by_id(b.id)
        await repo.delete_by_id(ULID())  # unknown: not an error
        await repo.delete_all_by_id([])
        await repo.commit()
    assert [w.id for w in await _all(storage)] == [c.id, d.id]
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        await repo.delete_all_by_id([c.id, ULID()])
        await repo.commit()
        assert [w.id for w in await repo.find_all()] == [d.id]
        await repo.delete_all()
        await repo.commit()
        assert await repo.count() == 0


async def test_delete_of_a_copy_deletes_by_id(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="a"))
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        await repo.delete(Widget(id=widget.id, name="a"))
        await repo.commit()
    assert await _all(storage) == []


async def test_refresh_saved_brings_a_copy_saved_by_id_up_to_date(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="a", size=1))
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        copy = Widget(id=widget.id, name="b", size=2)
        await repo.save(copy)
        await repo.commit()
        await repo.refresh_saved([copy])
        assert (copy.name, copy.size, copy.created_at) == ("b", 2, widget.created_at)
        assert copy.updated_at >= widget.updated_at
        await repo.refresh_saved([])


async def test_refresh_many_reloads_and_reports_missing(storage: Storage) -> None:
    [widget] = await _insert(storage, Widget(name="a", size=1))
    async with storage.unit_of_work() as session:
        repo = session.repository(Widget)
        loaded = await repo.find_by_id(widget.id)
        assert loaded is not None
        await repo.save(Widget(id=widget.id, name="b", size=2))
        await repo.commit()
        await repo.refresh_many([loaded])
        assert loaded.size == 2
        await repo.delete_by_id(widget.id)
        await repo.commit()
        with pytest.raises(NotFoundError):
            await repo.refresh_many([loaded])
        await repo.refresh_many([])
