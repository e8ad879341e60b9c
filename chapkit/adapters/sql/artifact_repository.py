"""`ArtifactRepository`: artifacts on SQL, with tree reads and subtree deletes as recursive queries."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import CTE, ColumnElement, Select, String, bindparam, delete, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key
from ulid import ULID

from chapkit.adapters.sql.errors import translated
from chapkit.adapters.sql.repository import BaseRepository
from chapkit.adapters.sql.schema.entities import artifacts_table, config_artifacts_table, map_entities
from chapkit.domain.artifact import Artifact, ArtifactRow
from chapkit.domain.config import ConfigArtifact
from chapkit.domain.ports.artifact_store import ArtifactStore

_artifacts = artifacts_table.c
_links = config_artifacts_table.c
_NO_SYNC: dict[str, Any] = {"execution_options": {"synchronize_session": False}}


def subtree_ids(roots: ColumnElement[bool], *, nested: bool = False) -> CTE:
    """A recursive query of the ids of every artifact matching `roots` and all their descendants.

    `UNION` (not `UNION ALL`) keeps the walk finite even if a cycle were ever written in the same
    transaction before it is rejected. `nested` renders the `WITH` inside the enclosing subquery: a
    DELETE must start with `DELETE`, or Python's sqlite3 driver does not open a transaction for it
    and the deletion could not be rolled back.
    """
    start = select(_artifacts.id).where(roots).cte("subtree", recursive=True, nesting=nested)
    return start.union(select(_artifacts.id).where(_artifacts.parent_id == start.c.id))


async def delete_subtrees(session: AsyncSession, roots: ColumnElement[bool]) -> None:
    """Delete the artifacts matching `roots`, their descendants and their config links (D17).

    Three statements whatever the size of the trees. The ids are read first because the database's
    cascade removes descendants behind the statement's back (so `RETURNING` would not list them); the
    session then forgets its objects for those rows. The artifacts go before the links because `roots`
    may select through the links (a config's linked trees).
    """
    doomed = set((await session.scalars(select(subtree_ids(roots).c.id))).all())
    if not doomed:
        return
    in_subtrees = _artifacts.id.in_(select(subtree_ids(roots, nested=True).c.id))
    await session.execute(delete(Artifact).where(in_subtrees), **_NO_SYNC)
    orphaned = ~_links.artifact_id.in_(select(_artifacts.id))
    await session.execute(delete(ConfigArtifact).where(orphaned), **_NO_SYNC)
    forget(session, lambda obj: isinstance(obj, Artifact | ConfigArtifact) and _artifact_id_of(obj) in doomed)


@cache
def _subtree_rows_statement() -> Select[Any]:
    """The subtree of the artifact bound as `chapkit_start`, in `ArtifactRow`'s columns, built once.

    The ids are read as the text they are stored as (`type_coerce` skips the ULID conversion).
    """
    ids = [type_coerce(_artifacts.id, String), type_coerce(_artifacts.parent_id, String)]
    subtree = subtree_ids(_artifacts.id == bindparam("chapkit_start"))
    columns = [*ids, _artifacts.level, _artifacts.data, _artifacts.created_at, _artifacts.updated_at]
    return select(*columns).join(subtree, _artifacts.id == subtree.c.id).order_by(_artifacts.id)


@cache
def _level_statement() -> Select[Any]:
    """The level of the artifact bound as `chapkit_id`, built once."""
    return select(_artifacts.level).where(_artifacts.id == bindparam("chapkit_id"))


def _root_id(artifact_id: ULID) -> Any:
    """The id of the root above `artifact_id` (itself for a root), as a scalar subquery: one recursive walk up."""
    chain = select(_artifacts.id, _artifacts.parent_id).where(_artifacts.id == artifact_id)
    ancestors = chain.cte("ancestors", recursive=True)
    ancestors = ancestors.union(
        select(_artifacts.id, _artifacts.parent_id).join(ancestors, _artifacts.id == ancestors.c.parent_id)
    )
    return select(ancestors.c.id).where(ancestors.c.parent_id.is_(None)).scalar_subquery()


def forget(session: AsyncSession, deleted: Callable[[object], bool]) -> None:
    """Remove from the session the objects whose rows a bulk statement deleted, so reads do not see them."""
    for obj in list(session.identity_map.values()):
        if deleted(obj):
            session.expunge(obj)


def _artifact_id_of(obj: object) -> Any:
    return obj.artifact_id if isinstance(obj, ConfigArtifact) else getattr(obj, "id", None)


class ArtifactRepository(BaseRepository[Artifact, ULID], ArtifactStore):
    """Repository for Artifact entities with tree traversal operations."""

    def __init__(self, session: AsyncSession) -> None:
        """Initialize artifact repository with database session."""
        map_entities()  # a session of users' own engine works too
        super().__init__(session, Artifact)

    @translated
    async def find_subtree(self, start_id: ULID) -> Sequence[Artifact]:
        """Find all artifacts in the subtree rooted at the given ID using one recursive query."""
        subtree = subtree_ids(_artifacts.id == start_id)
        query = select(Artifact).join(subtree, _artifacts.id == subtree.c.id).order_by(_artifacts.id)
        return (await self.s.scalars(query)).all()

    @translated
    async def find_subtree_rows(self, start_id: ULID) -> list[ArtifactRow]:
        """Return the subtree as plain rows: no identity map or change tracking, ids as stored text.

        The session's pending changes are flushed first (autoflush), so the rows show them.
        """
        result = await self.s.execute(_subtree_rows_statement(), {"chapkit_start": start_id})
        return list(map(ArtifactRow._make, result.all()))  # all(): one fetch, not one per row

    @translated
    async def level_of(self, artifact_id: ULID) -> int | None:
        """Return the artifact's level: the session's own instance's when it holds one, else the column alone.

        The row's pickled `data` is not loaded (a model artifact's can be large), unlike `find_by_id`.
        """
        held = self.s.sync_session.identity_map.get(identity_key(Artifact, artifact_id))
        if held is not None:
            level: int = held.level
            return level
        found: int | None = await self.s.scalar(_level_statement(), {"chapkit_id": artifact_id})
        return found

    @translated
    async def get_root_artifact(self, artifact_id: ULID) -> Artifact | None:
        """Find the root artifact by walking up the parent chain in one recursive query."""
        return (await self.s.scalars(select(Artifact).where(_artifacts.id == _root_id(artifact_id)))).first()

    @translated
    async def root_id_of(self, artifact_id: ULID) -> ULID | None:
        """The root's id, from the same recursive query as `get_root_artifact`; no artifact is loaded."""
        root_id: ULID | None = await self.s.scalar(select(_root_id(artifact_id)))
        return root_id

    @translated
    async def linked_config_id(self, artifact_id: ULID) -> ULID | None:
        """Return the id of the config linked to this artifact, or None."""
        linked: ULID | None = await self.s.scalar(select(_links.config_id).where(_links.artifact_id == artifact_id))
        return linked

    # ---------------------------------------------------------------- deletes take the subtree along (D17)

    async def delete(self, entity: Artifact) -> None:
        """Delete the artifact, its subtree and their config links."""
        if entity.id is not None:
            await self.delete_by_id(entity.id)

    @translated
    async def delete_by_id(self, id: ULID) -> None:
        """Delete the artifact with this id, its subtree and their config links."""
        await delete_subtrees(self.s, _artifacts.id == id)

    @translated
    async def delete_all_by_id(self, ids: Sequence[ULID]) -> None:
        """Delete the artifacts with these ids, their subtrees and their config links."""
        if ids:
            await delete_subtrees(self.s, _artifacts.id.in_(list(ids)))

    @translated
    async def delete_all(self) -> None:
        """Delete every artifact and every config link."""
        await self.s.execute(delete(Artifact), **_NO_SYNC)
        await self.s.execute(delete(ConfigArtifact), **_NO_SYNC)
        forget(self.s, lambda obj: isinstance(obj, Artifact | ConfigArtifact))


__all__ = ["ArtifactRepository", "delete_subtrees", "forget", "subtree_ids"]
