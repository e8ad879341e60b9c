"""Managers: the use cases on top of a repository, with lifecycle hooks and change tracking."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Generic

from pydantic import BaseModel
from typing_extensions import TypeVar

from chapkit.domain.errors import BadRequestError
from chapkit.domain.ports.repository import Repository

ModelT = TypeVar("ModelT")
InSchemaT = TypeVar("InSchemaT", bound=BaseModel)
OutSchemaT = TypeVar("OutSchemaT", bound=BaseModel)
IdT = TypeVar("IdT")

Changes = dict[str, tuple[object, object]]


class LifecycleHooks(Generic[ModelT, InSchemaT]):
    """Lifecycle hooks for entity operations.

    Pre-hooks run before anything is committed: if one raises, nothing of that operation is stored
    (D13). Post-hooks run after the commit.
    """

    def _should_assign_field(self, field: str, value: object) -> bool:
        """Determine if a field should be assigned during update."""
        return True

    async def pre_save(self, entity: ModelT, data: InSchemaT) -> None:
        """Hook called before saving a new entity."""

    async def post_save(self, entity: ModelT) -> None:
        """Hook called after saving a new entity."""

    async def pre_update(self, entity: ModelT, data: InSchemaT, old_values: dict[str, object]) -> None:
        """Hook called before updating an existing entity."""

    async def post_update(self, entity: ModelT, changes: Changes) -> None:
        """Hook called after updating an existing entity."""

    async def pre_delete(self, entity: ModelT) -> None:
        """Hook called before deleting an entity."""

    async def post_delete(self, entity: ModelT) -> None:
        """Hook called after deleting an entity."""


class Manager(ABC, Generic[InSchemaT, OutSchemaT, IdT]):
    """Abstract manager interface for business logic operations."""

    @abstractmethod
    async def save(self, data: InSchemaT) -> OutSchemaT:
        """Create the entity, or update it when `data.id` names a stored one."""

    @abstractmethod
    async def save_all(self, items: Iterable[InSchemaT]) -> list[OutSchemaT]:
        """Save several entities in one commit."""

    @abstractmethod
    async def delete_by_id(self, id: IdT) -> None:
        """Delete an entity by its ID (unknown ids are ignored)."""

    @abstractmethod
    async def delete_all(self) -> None:
        """Delete all entities."""

    @abstractmethod
    async def delete_all_by_id(self, ids: Sequence[IdT]) -> None:
        """Delete multiple entities by their IDs."""

    @abstractmethod
    async def count(self) -> int:
        """Count the number of entities."""

    @abstractmethod
    async def exists_by_id(self, id: IdT) -> bool:
        """Check if an entity exists by its ID."""

    @abstractmethod
    async def find_by_id(self, id: IdT) -> OutSchemaT | None:
        """Find an entity by its ID."""

    @abstractmethod
    async def find_all(self) -> list[OutSchemaT]:
        """Find all entities, ordered by id."""

    @abstractmethod
    async def find_paginated(self, page: int, size: int) -> tuple[list[OutSchemaT], int]:
        """Return page `page` (1-indexed) of `size` items and the total count."""

    @abstractmethod
    async def find_all_by_id(self, ids: Sequence[IdT]) -> list[OutSchemaT]:
        """Find entities by their IDs."""


class BaseManager(
    LifecycleHooks[ModelT, InSchemaT],
    Manager[InSchemaT, OutSchemaT, IdT],
    Generic[ModelT, InSchemaT, OutSchemaT, IdT],
):
    """Base manager implementation with CRUD operations and lifecycle hooks."""

    def __init__(
        self,
        repo: Repository[ModelT, IdT],
        model_cls: type[ModelT],
        out_schema_cls: type[OutSchemaT],
    ) -> None:
        """Initialize manager with repository, model class, and output schema class."""
        self.repo = repo
        self.model_cls = model_cls
        self.out_schema_cls = out_schema_cls

    def _to_output_schema(self, entity: ModelT) -> OutSchemaT:
        """Convert a stored entity to the output schema."""
        return self.out_schema_cls.model_validate(entity, from_attributes=True)

    # ---------------------------------------------------------------- saving

    async def save(self, data: InSchemaT) -> OutSchemaT:
        """Save an entity (create or update by id)."""
        async with self._rolled_back_on_error():
            entity, changes = await self._stage(data)
            await self.repo.save(entity)
            await self.repo.commit()
        await self.repo.refresh_saved([entity])
        await self._run_post_hook(entity, changes)
        return self._to_output_schema(entity)

    async def save_all(self, items: Iterable[InSchemaT]) -> list[OutSchemaT]:
        """Save several entities in one commit; hooks run per entity."""
        staged: list[tuple[ModelT, Changes | None]] = []
        async with self._rolled_back_on_error():
            for data in items:
                staged.append(await self._stage(data))
            await self.repo.save_all([entity for entity, _ in staged])
            await self.repo.commit()
        entities = [entity for entity, _ in staged]
        if entities:
            await self.repo.refresh_saved(entities)
        for entity, changes in staged:
            if changes is None:
                await self.post_save(entity)
        for entity, changes in staged:
            if changes is not None:
                await self.post_update(entity, changes)
        return [self._to_output_schema(entity) for entity in entities]

    async def _stage(self, data: InSchemaT) -> tuple[ModelT, Changes | None]:
        """Build the entity to store and run its pre-hook; changes are None for a new entity."""
        data_dict = data.model_dump(exclude_none=True)
        entity_id = data_dict.get("id")
        existing = await self.repo.find_by_id(entity_id) if entity_id is not None else None
        if existing is None:
            entity = self.model_cls(**data_dict)
            await self.pre_save(entity, data)
            return entity, None

        tracked = set(data_dict) | ({"level"} if hasattr(existing, "level") else set())
        old_values = {field: getattr(existing, field) for field in tracked if hasattr(existing, field)}
        for key, value in data_dict.items():
            if key != "id" and self._should_assign_field(key, value) and hasattr(existing, key):
                setattr(existing, key, value)
        await self.pre_update(existing, data, old_values)
        changes: Changes = {}
        for field, old_value in old_values.items():
            new_value = getattr(existing, field)
            if old_value != new_value:
                changes[field] = (old_value, new_value)
        return existing, changes

    async def _run_post_hook(self, entity: ModelT, changes: Changes | None) -> None:
        if changes is None:
            await self.post_save(entity)
        else:
            await self.post_update(entity, changes)

    # ---------------------------------------------------------------- deleting

    async def delete_by_id(self, id: IdT) -> None:
        """Delete an entity by its ID (unknown ids are ignored)."""
        entity = await self.repo.find_by_id(id)
        if entity is None:
            return
        await self._delete_entities([entity], lambda: self.repo.delete(entity))

    async def delete_all(self) -> None:
        """Delete all entities."""
        entities = list(await self.repo.find_all())
        await self._delete_entities(entities, self.repo.delete_all)

    async def delete_all_by_id(self, ids: Sequence[IdT]) -> None:
        """Delete multiple entities by their IDs."""
        if not ids:
            return
        entities = list(await self.repo.find_all_by_id(ids))
        await self._delete_entities(entities, lambda: self.repo.delete_all_by_id(ids))

    async def _delete_entities(self, entities: list[ModelT], stage_deletion: Callable[[], Awaitable[None]]) -> None:
        """Run pre-hooks, then the staged deletion and commit, then post-hooks."""
        async with self._rolled_back_on_error():
            for entity in entities:
                await self.pre_delete(entity)
            await stage_deletion()
            await self.repo.commit()
        for entity in entities:
            await self.post_delete(entity)

    # ---------------------------------------------------------------- reading

    async def count(self) -> int:
        """Count the number of entities."""
        return await self.repo.count()

    async def exists_by_id(self, id: IdT) -> bool:
        """Check if an entity exists by its ID."""
        return await self.repo.exists_by_id(id)

    async def find_by_id(self, id: IdT) -> OutSchemaT | None:
        """Find an entity by its ID."""
        entity = await self.repo.find_by_id(id)
        return None if entity is None else self._to_output_schema(entity)

    async def find_all(self) -> list[OutSchemaT]:
        """Find all entities, ordered by id."""
        return [self._to_output_schema(e) for e in await self.repo.find_all()]

    async def find_paginated(self, page: int, size: int) -> tuple[list[OutSchemaT], int]:
        """Return page `page` (1-indexed) of `size` items and the total count."""
        if page < 1 or size < 1:
            raise BadRequestError(f"page and size must be at least 1 (got page={page}, size={size})")
        entities, total = await self.repo.find_page((page - 1) * size, size)
        return [self._to_output_schema(e) for e in entities], total

    async def find_all_by_id(self, ids: Sequence[IdT]) -> list[OutSchemaT]:
        """Find entities by their IDs."""
        return [self._to_output_schema(e) for e in await self.repo.find_all_by_id(ids)]

    # ---------------------------------------------------------------- helpers

    @asynccontextmanager
    async def _rolled_back_on_error(self) -> AsyncIterator[None]:
        """Roll the session back when the block raises, so a failed pre-hook stores nothing (D13)."""
        try:
            yield
        except BaseException:
            await self.repo.rollback()
            raise


__all__ = ["BaseManager", "LifecycleHooks", "Manager"]
