"""`BaseRepository`: the repository port on an SQLAlchemy `AsyncSession`, for any mapped class."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Select, bindparam, delete, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from chapkit.adapters.sql.errors import domain_errors, translated
from chapkit.adapters.sql.schema.entities import CHAPKIT_OWNED
from chapkit.domain.errors import NotFoundError
from chapkit.domain.ports.repository import IdT, Repository, T

_ADAPTER_OWNED = frozenset({"created_at", "updated_at"})
_BY_ID: dict[tuple[type, bool], Select[Any]] = {}
"""Per mapped class, `SELECT ... WHERE id = :id` (and its reloading form): built once, not per read."""

_PAGES: dict[type, Select[Any]] = {}
"""Per mapped class, a page of rows by id with the table's count: built once, not per page."""


def _by_id_statement(model: type, *, reload: bool = False) -> Select[Any]:
    statement = _BY_ID.get((model, reload))
    if statement is None:
        statement = select(model).where(model.id == bindparam("chapkit_id"))  # type: ignore[attr-defined]
        if reload:
            statement = statement.execution_options(populate_existing=True)
        _BY_ID[(model, reload)] = statement
    return statement


def _page_statement(model: type) -> Select[Any]:
    statement = _PAGES.get(model)
    if statement is None:
        total = select(func.count()).select_from(model).scalar_subquery()
        statement = (
            select(model, total)
            .order_by(model.id)  # type: ignore[attr-defined]
            # 64-bit: the offset of the last page (`MAX_PAGE`) is past 32 bits, and PostgreSQL's
            # driver casts each parameter to its type.
            .offset(bindparam("chapkit_offset", type_=BigInteger))
            .limit(bindparam("chapkit_limit", type_=BigInteger))
        )
        _PAGES[model] = statement
    return statement


class BaseRepository(Repository[T, IdT]):
    """Base repository implementation with common CRUD operations.

    Works on chapkit's entities and on users' own declarative models (`Entity` subclasses). Lists are
    ordered by id; database errors come out as chapkit errors (`ConflictError`, `InvalidULIDError`).
    """

    def __init__(self, session: AsyncSession, model: type[T]) -> None:
        """Initialize repository with database session and model type."""
        self.s = session
        self.model = model

    @property
    def _id_column(self) -> Any:
        return self.model.id  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- writes

    @translated
    async def save(self, entity: T) -> T:
        """Stage an insert, or an update when a row with the entity's id is stored (D8).

        A new object carrying a stored id is not inserted: its values are copied onto the session's
        instance of that row, so the flush updates it (`refresh_many` brings the result back).
        """
        if inspect(entity).transient:
            entity_id = getattr(entity, "id", None)
            if entity_id is not None:
                stored = await self._instance(entity_id)
                if stored is not None:
                    self._copy_columns(entity, stored, skip=_ADAPTER_OWNED | {"id"})
                    return entity
        self.s.add(entity)
        return entity

    def _copy_columns(self, source: T, target: T, *, skip: frozenset[str] = frozenset()) -> None:
        """Copy the column values `source` holds onto `target`."""
        held = vars(source)
        for attr in inspect(self.model).column_attrs:
            if attr.key in held and attr.key not in skip:
                setattr(target, attr.key, held[attr.key])

    async def save_all(self, entities: Iterable[T]) -> Sequence[T]:
        """Stage every entity as `save` does."""
        return [await self.save(entity) for entity in entities]

    async def commit(self) -> None:
        """Commit the session; on failure it is rolled back and the error translated."""
        try:
            with domain_errors():
                await self.s.commit()
        except BaseException:
            await self.s.rollback()
            raise

    async def rollback(self) -> None:
        """Discard the session's uncommitted changes."""
        await self.s.rollback()

    @translated
    async def refresh_many(self, entities: Iterable[T]) -> None:
        """Reload the entities in one query; a missing one raises `NotFoundError`."""
        wanted = list(entities)
        if not wanted:
            return
        ids = [_id_of(e) for e in wanted]
        if len(ids) == 1:  # what every save of one entity reloads: a statement built once
            result = await self.s.scalars(_by_id_statement(self.model, reload=True), {"chapkit_id": ids[0]})
        else:
            statement = select(self.model).where(self._id_column.in_(ids)).execution_options(populate_existing=True)
            result = await self.s.scalars(statement)
        rows = {_id_of(row): row for row in result.all()}
        for entity, entity_id in zip(wanted, ids, strict=True):
            row = rows.get(entity_id)
            if row is None:
                raise NotFoundError(f"{self.model.__name__} {entity_id} is not stored")
            if row is not entity:  # a copy saved by id: give it the stored values
                self._copy_columns(row, entity)

    async def refresh_saved(self, entities: Iterable[T]) -> None:
        """Reload the saved entities that may not hold what was stored; chapkit's own hold it after the flush.

        An instance of this session whose flush wrote every column, to one of chapkit's own tables
        (configs, artifacts, tasks: every default computed in Python, no type that changes a value on
        its way through the database), holds exactly what a reload would read: reloading it was a
        second statement and, on SQLite, a second write turn for every `POST` and `PUT`. Others (a copy
        saved by id, columns the database filled, users' own tables) are reloaded with `refresh_many`.
        """
        stale = [entity for entity in entities if not self._holds_what_was_stored(entity)]
        if stale:
            await self.refresh_many(stale)

    def _holds_what_was_stored(self, entity: T) -> bool:
        state = inspect(entity)
        if not state.persistent or state.mapper.local_table.info.get("owner") != CHAPKIT_OWNED["owner"]:
            return False
        unloaded = state.unloaded
        return not unloaded or not any(column.key in unloaded for column in state.mapper.column_attrs)

    @translated
    async def delete(self, entity: T) -> None:
        """Stage the deletion of `entity` (a copy that is not in this session is deleted by id)."""
        if inspect(entity).persistent:
            await self.s.delete(entity)
        else:
            await self.delete_by_id(_id_of(entity))

    @translated
    async def delete_by_id(self, id: IdT) -> None:
        """Delete an entity by its ID."""
        await self.s.execute(delete(self.model).where(self._id_column == id))

    @translated
    async def delete_all(self) -> None:
        """Delete all entities of this type."""
        await self.s.execute(delete(self.model))

    @translated
    async def delete_all_by_id(self, ids: Sequence[IdT]) -> None:
        """Delete multiple entities by their IDs."""
        if not ids:
            return
        await self.s.execute(delete(self.model).where(self._id_column.in_(list(ids))))

    # ---------------------------------------------------------------- reads

    @translated
    async def count(self) -> int:
        """Count the number of entities."""
        return await self.s.scalar(select(func.count()).select_from(self.model)) or 0

    @translated
    async def exists_by_id(self, id: IdT) -> bool:
        """Check if an entity exists by its ID."""
        query = select(select(self._id_column).where(self._id_column == id).exists())
        return bool(await self.s.scalar(query))

    @translated
    async def find_all(self) -> Sequence[T]:
        """Find all entities, ordered by id."""
        return (await self.s.scalars(select(self.model).order_by(self._id_column))).all()

    @translated
    async def find_all_paginated(self, offset: int, limit: int) -> Sequence[T]:
        """Find entities with pagination, ordered by id."""
        query = select(self.model).order_by(self._id_column).offset(max(offset, 0)).limit(max(limit, 0))
        return (await self.s.scalars(query)).all()

    @translated
    async def find_page(self, offset: int, limit: int) -> tuple[Sequence[T], int]:
        """A page and the total in one statement (the count as a subquery), so both show the same state of storage.

        Past the end there is no row to carry the total: it is then counted on its own.
        """
        page = {"chapkit_offset": max(offset, 0), "chapkit_limit": max(limit, 0)}
        rows = (await self.s.execute(_page_statement(self.model), page)).all()
        if not rows:
            return [], await self.count()
        return [row[0] for row in rows], rows[0][1]

    @translated
    async def find_all_by_id(self, ids: Sequence[IdT]) -> Sequence[T]:
        """Find entities by their IDs, ordered by id."""
        if not ids:
            return []
        query = select(self.model).where(self._id_column.in_(list(ids))).order_by(self._id_column)
        return (await self.s.scalars(query)).all()

    @translated
    async def find_by_id(self, id: IdT) -> T | None:
        """Find an entity by its ID (the session's own instance, as `Session.get` returns it)."""
        return await self._instance(id)

    async def _instance(self, id: Any) -> T | None:
        """The session's instance of the row `id` (None when there is none), as `Session.get` finds it.

        A session that holds no instance yet (every read request's, a job's write unit) runs a
        statement built once per class; one that does asks `Session.get`, which answers from its
        identity map when it can.
        """
        if id is None or self.s.sync_session.identity_map:
            return await self.s.get(self.model, id)
        result = await self.s.execute(_by_id_statement(self.model), {"chapkit_id": id})
        found: T | None = result.scalars().one_or_none()
        return found


def _id_of(entity: object) -> Any:
    """The entity's id (every entity has one; the generic T does not say so)."""
    return entity.__dict__.get("id")


__all__ = ["BaseRepository"]
