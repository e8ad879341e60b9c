"""BaseManager's contract over every backend: create-or-update, change tracking, hooks, D13, paging."""

from __future__ import annotations

from typing import Any

import pytest
from ulid import ULID

from chapkit import BadRequestError, BaseManager
from chapkit.embedding import Storage
from tests.support.models import Widget, WidgetIn, WidgetOut

Manager = BaseManager[Widget, WidgetIn, WidgetOut, ULID]


class RecordingManager(Manager):
    """Records what its hooks saw; fails in the hook named by `fail_in` for entities named 'boom'."""

    def __init__(self, *args: Any, fail_in: str | None = None) -> None:
        super().__init__(*args)
        self.fail_in = fail_in
        self.events: list[tuple[str, Any]] = []

    def _check(self, hook: str, entity: Widget) -> None:
        if hook == self.fail_in and entity.name == "boom":
            raise RuntimeError(f"{hook} refused")

    async def pre_save(self, entity: Widget, data: WidgetIn) -> None:
        self._check("pre_save", entity)
        self.events.append(("pre_save", entity.name))

    async def post_save(self, entity: Widget) -> None:
        self.events.append(("post_save", entity.id))

    async def pre_update(self, entity: Widget, data: WidgetIn, old_values: dict[str, object]) -> None:
        self._check("pre_update", entity)
        self.events.append(("pre_update", dict(old_values)))

    async def post_update(self, entity: Widget, changes: dict[str, tuple[object, object]]) -> None:
        self.events.append(("post_update", dict(changes)))

    async def pre_delete(self, entity: Widget) -> None:
        self._check("pre_delete", entity)
        self.events.append(("pre_delete", entity.id))

    async def post_delete(self, entity: Widget) -> None:
        self.events.append(("post_delete", entity.id))


def _manager(storage: Storage, session: Any, **options: Any) -> RecordingManager:
    return RecordingManager(session.repository(Widget), Widget, WidgetOut, **options)


async def _names(storage: Storage) -> list[str]:
    async with storage.unit_of_work() as session:
        return [w.name for w in await _manager(storage, session).find_all()]


async def test_save_creates_and_returns_output_schema(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session)
        out = await manager.save(WidgetIn(name="a", size=3))
    assert isinstance(out, WidgetOut)
    assert (out.name, out.size, out.level) == ("a", 3, 0)
    assert out.created_at == out.updated_at
    assert manager.events == [("pre_save", "a"), ("post_save", out.id)]


async def test_save_with_unknown_id_creates_with_that_id(storage: Storage) -> None:
    wanted = ULID()
    async with storage.unit_of_work() as session:
        out = await _manager(storage, session).save(WidgetIn(id=wanted, name="a"))
    assert out.id == wanted
    async with storage.unit_of_work() as session:
        assert await _manager(storage, session).exists_by_id(wanted)


async def test_update_tracks_old_values_and_changes_including_level(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        created = await _manager(storage, session).save(WidgetIn(name="a", size=1, level=2))
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session)
        updated = await manager.save(WidgetIn(id=created.id, name="a", size=5, level=2))
    assert updated.size == 5 and updated.created_at == created.created_at
    assert updated.updated_at >= created.updated_at
    [(pre, old_values), (post, changes)] = manager.events
    assert (pre, post) == ("pre_update", "post_update")
    assert old_values == {"id": created.id, "name": "a", "size": 1, "level": 2}
    assert changes == {"size": (1, 5)}


async def test_should_assign_field_can_protect_a_field(storage: Storage) -> None:
    class Guarded(RecordingManager):
        def _should_assign_field(self, field: str, value: object) -> bool:
            return field != "name"

    async with storage.unit_of_work() as session:
        created = await _manager(storage, session).save(WidgetIn(name="keep", size=1))
    async with storage.unit_of_work() as session:
        guarded = Guarded(session.repository(Widget), Widget, WidgetOut)
        updated = await guarded.save(WidgetIn(id=created.id, name="changed", size=2))
    assert (updated.name, updated.size) == ("keep", 2)


async def test_save_all_commits_once_and_runs_hooks_per_entity(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        existing = await _manager(storage, session).save(WidgetIn(name="old", size=1))
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session)
        outs = await manager.save_all(
            [WidgetIn(name="new"), WidgetIn(id=existing.id, name="old", size=2), WidgetIn(name="newer")]
        )
    assert [o.name for o in outs] == ["new", "old", "newer"]
    assert outs[1].id == existing.id and outs[1].size == 2
    kinds = [kind for kind, _ in manager.events]
    assert kinds == ["pre_save", "pre_update", "pre_save", "post_save", "post_save", "post_update"]
    assert sorted(await _names(storage)) == ["new", "newer", "old"]


@pytest.mark.parametrize("hook", ["pre_save", "pre_update"])
async def test_a_failing_pre_hook_stores_nothing_of_the_batch(storage: Storage, hook: str) -> None:
    async with storage.unit_of_work() as session:
        boom = await _manager(storage, session).save(WidgetIn(name="boom", size=1))
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session, fail_in=hook)
        batch = [WidgetIn(name="first"), WidgetIn(id=boom.id, name="boom", size=9), WidgetIn(name="boom")]
        with pytest.raises(RuntimeError, match="refused"):
            await manager.save_all(batch)
        # the same session stays usable and nothing of the failed batch leaks into the next commit
        await manager.save(WidgetIn(name="after"))
    async with storage.unit_of_work() as session:
        stored = {w.name: w.size for w in await _manager(storage, session).find_all()}
    assert stored == {"boom": 1, "after": 0}


async def test_a_failing_pre_delete_deletes_nothing(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session, fail_in="pre_delete")
        await manager.save_all([WidgetIn(name="a"), WidgetIn(name="boom")])
        with pytest.raises(RuntimeError):
            await manager.delete_all()
    assert sorted(await _names(storage)) == ["a", "boom"]


async def test_delete_variants_run_hooks_and_ignore_unknown_ids(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session)
        a, b, c = await manager.save_all([WidgetIn(name=n) for n in "abc"])
        manager.events.clear()
        await manager.delete_by_id(ULID())
        assert manager.events == []
        await manager.delete_by_id(a.id)
        assert manager.events == [("pre_delete", a.id), ("post_delete", a.id)]
        await manager.delete_all_by_id([])
        await manager.delete_all_by_id([b.id, ULID()])
        assert await manager.count() == 1
        await manager.delete_all()
        assert await manager.count() == 0
        assert ("post_delete", c.id) in manager.events


async def test_find_paginated_is_one_indexed_with_total(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session)
        saved = await manager.save_all([WidgetIn(name=str(i)) for i in range(5)])
        page, total = await manager.find_paginated(2, 2)
        assert total == 5 and [w.id for w in page] == [w.id for w in saved[2:4]]
        page, total = await manager.find_paginated(9, 2)
        assert (page, total) == ([], 5)
        for bad_page, bad_size in [(0, 2), (1, 0)]:
            with pytest.raises(BadRequestError):
                await manager.find_paginated(bad_page, bad_size)


async def test_reads(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        manager = _manager(storage, session)
        a, b = await manager.save_all([WidgetIn(name="a"), WidgetIn(name="b")])
        assert await manager.find_by_id(ULID()) is None
        found = await manager.find_by_id(a.id)
        assert found is not None and found.name == "a"
        assert [w.id for w in await manager.find_all_by_id([b.id, a.id])] == [a.id, b.id]
        assert await manager.find_all_by_id([]) == []
        assert await manager.exists_by_id(b.id)
