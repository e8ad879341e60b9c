"""`InMemoryRepository`: the repository port on an `InMemorySession`, mirroring `BaseRepository`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ulid import ULID

from chapkit.adapters.memory.session import InMemorySession, id_key, materialize, snapshot_of, utc_now
from chapkit.domain.errors import NotFoundError
from chapkit.domain.ports.repository import IdT, Repository, T


class InMemoryRepository(Repository[T, IdT]):
    """Repository over an in-memory session: copies in on save, copies out on every read.

    Entities must accept their public attributes as keyword arguments (dataclasses, pydantic models and
    SQLAlchemy declarative models all do). A new entity without an id gets a fresh ULID; `created_at`
    and `updated_at`, where the entity has them, are set here in UTC (D8).
    """

    def __init__(self, session: InMemorySession, model: type[T]) -> None:
        """Bind the repository to a session and an entity type."""
        self.s = session
        self.model = model

    # ---------------------------------------------------------------- writes

    async def save(self, entity: T) -> T:
        """Stage an insert, or an update when the id is stored (create-or-update by id, D8)."""
        if getattr(entity, "id", None) is None:
            entity.id = ULID()  # type: ignore[attr-defined]
        key = id_key(entity.id)  # type: ignore[attr-defined]
        entity.id = key  # type: ignore[attr-defined]
        now = utc_now()
        stored = self.s.find(self.model, key)
        if hasattr(entity, "created_at"):
            entity.created_at = stored["created_at"] if stored and "created_at" in stored else now
        if hasattr(entity, "updated_at"):
            entity.updated_at = now if stored else getattr(entity, "created_at", now)
        self.s.stage(self.model, key, snapshot_of(entity))
        return entity

    async def save_all(self, entities: Iterable[T]) -> Sequence[T]:
        """Stage every entity as `save` does."""
        return [await self.save(entity) for entity in entities]

    async def commit(self) -> None:
        """Apply the session's staged writes."""
        await self.s.commit()

    async def rollback(self) -> None:
        """Discard the session's staged writes."""
        await self.s.rollback()

    async def refresh_many(self, entities: Iterable[T]) -> None:
        """Copy the stored attributes back onto each entity; a missing one raises `NotFoundError`."""
        for entity in entities:
            snapshot = self.s.find(self.model, id_key(getattr(entity, "id", None)))
            if snapshot is None:
                raise NotFoundError(f"{self.model.__name__} {getattr(entity, 'id', None)} is not stored")
            for name, value in materialize(dict, snapshot).items():
                setattr(entity, name, value)

    async def delete(self, entity: T) -> None:
        """Stage the deletion of `entity`."""
        self.s.stage(self.model, id_key(entity.id), None)  # type: ignore[attr-defined]

    async def delete_by_id(self, id: IdT) -> None:
        """Stage the deletion of the entity with this id."""
        self.s.stage(self.model, id_key(id), None)

    async def delete_all(self) -> None:
        """Stage the deletion of every visible entity."""
        for key in list(self.s.rows(self.model)):
            self.s.stage(self.model, key, None)

    async def delete_all_by_id(self, ids: Sequence[IdT]) -> None:
        """Stage the deletion of the entities with these ids."""
        for key in [id_key(i) for i in ids]:
            self.s.stage(self.model, key, None)

    # ---------------------------------------------------------------- reads

    async def count(self) -> int:
        """Return how many entities this session sees."""
        return len(self.s.rows(self.model))

    async def exists_by_id(self, id: IdT) -> bool:
        """Return whether an entity with this id exists."""
        return self.s.find(self.model, id_key(id)) is not None

    async def find_all(self) -> Sequence[T]:
        """Return every entity, ordered by id."""
        return self._materialize_sorted(self.s.rows(self.model).items())

    async def find_all_paginated(self, offset: int, limit: int) -> Sequence[T]:
        """Return at most `limit` entities after `offset`, ordered by id."""
        rows = sorted(self.s.rows(self.model).items(), key=_by_key)
        return [
            materialize(self.model, snapshot) for _, snapshot in rows[max(offset, 0) : max(offset, 0) + max(limit, 0)]
        ]

    async def find_all_by_id(self, ids: Sequence[IdT]) -> Sequence[T]:
        """Return the entities with these ids, ordered by id; unknown ids are skipped."""
        keys = {id_key(i) for i in ids}
        found = [(key, snapshot) for key in keys if (snapshot := self.s.find(self.model, key)) is not None]
        return self._materialize_sorted(found)

    async def find_by_id(self, id: IdT) -> T | None:
        """Return a copy of the entity with this id, or None."""
        snapshot = self.s.find(self.model, id_key(id))
        return None if snapshot is None else materialize(self.model, snapshot)

    def _materialize_sorted(self, rows: Iterable[tuple[Any, dict[str, Any]]]) -> list[T]:
        return [materialize(self.model, snapshot) for _, snapshot in sorted(rows, key=_by_key)]


def _by_key(row: tuple[Any, Any]) -> Any:
    return row[0]


__all__ = ["InMemoryRepository"]
