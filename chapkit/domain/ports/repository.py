"""The repository port: the reference's 13 storage operations, generic over entity and id."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Generic

from typing_extensions import TypeVar
from ulid import ULID

T = TypeVar("T")
IdT = TypeVar("IdT", default=ULID)


class Repository(ABC, Generic[T, IdT]):
    """Abstract repository interface for data access operations.

    A repository is bound to one session (unit of work). Writes are staged in that session and become
    visible to other sessions only after `commit()` (D9). Every list is ordered by id ascending, which for
    ULIDs is creation order (D8). Adapters set `created_at`/`updated_at` in UTC and translate storage
    errors into chapkit errors: a duplicate key or broken reference is a `ConflictError`, an id string that
    is not a ULID an `InvalidULIDError`.
    """

    @abstractmethod
    async def save(self, entity: T) -> T:
        """Stage `entity` for insert, or for update when an entity with its id is stored; return it."""

    @abstractmethod
    async def save_all(self, entities: Iterable[T]) -> Sequence[T]:
        """Stage every entity as `save` does; return them in the order given."""

    @abstractmethod
    async def commit(self) -> None:
        """Make the session's staged writes durable and visible; raises `ConflictError` on a key clash."""

    @abstractmethod
    async def refresh_many(self, entities: Iterable[T]) -> None:
        """Reload the given entities' attributes from storage (ids and timestamps included)."""

    async def refresh_saved(self, entities: Iterable[T]) -> None:
        """Bring entities just saved and committed up to date with what storage holds for them.

        What managers call after a save. By default `refresh_many`; an adapter that knows an entity
        already holds every value as stored reloads only the others.
        """
        await self.refresh_many(entities)

    @abstractmethod
    async def delete(self, entity: T) -> None:
        """Stage the deletion of `entity`."""

    @abstractmethod
    async def delete_by_id(self, id: IdT) -> None:
        """Stage the deletion of the entity with this id; an unknown id is not an error."""

    @abstractmethod
    async def delete_all(self) -> None:
        """Stage the deletion of every entity of this repository's type."""

    @abstractmethod
    async def delete_all_by_id(self, ids: Sequence[IdT]) -> None:
        """Stage the deletion of the entities with these ids; unknown ids and an empty list are ignored."""

    @abstractmethod
    async def count(self) -> int:
        """Return how many entities this session sees."""

    @abstractmethod
    async def exists_by_id(self, id: IdT) -> bool:
        """Return whether an entity with this id exists."""

    @abstractmethod
    async def find_all(self) -> Sequence[T]:
        """Return every entity, ordered by id."""

    @abstractmethod
    async def find_all_paginated(self, offset: int, limit: int) -> Sequence[T]:
        """Return at most `limit` entities after skipping `offset`, ordered by id (empty past the end)."""

    async def find_page(self, offset: int, limit: int) -> tuple[Sequence[T], int]:
        """`find_all_paginated(offset, limit)` and `count()` together, as one read where the adapter can.

        What a paginated listing asks for. By default the two calls; an adapter that can read the
        page and the total in one statement answers both from the same state of storage.
        """
        return await self.find_all_paginated(offset, limit), await self.count()

    @abstractmethod
    async def find_all_by_id(self, ids: Sequence[IdT]) -> Sequence[T]:
        """Return the entities with these ids, ordered by id; unknown ids are skipped."""

    @abstractmethod
    async def find_by_id(self, id: IdT) -> T | None:
        """Return the entity with this id, or None."""

    async def rollback(self) -> None:
        """Discard the session's staged writes (an extension of the reference; no-op without transactions)."""
        return None


__all__ = ["IdT", "Repository", "T"]
