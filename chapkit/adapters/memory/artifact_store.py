"""`InMemoryArtifactStore`: artifacts in memory, with the same tree and cascade rules as SQL (D10)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ulid import ULID

from chapkit.adapters.memory.repository import InMemoryRepository
from chapkit.adapters.memory.session import InMemorySession, Snapshot, id_key, materialize
from chapkit.domain.artifact import Artifact, ArtifactRow
from chapkit.domain.config import ConfigArtifact
from chapkit.domain.errors import ConflictError
from chapkit.domain.ports.artifact_store import ArtifactStore

MISSING_REFERENCE = "The change refers to an entity that does not exist, or one that is still referenced"
"""The message SQL gives for a broken foreign key, so both adapters say the same."""


def subtree_keys(session: InMemorySession, roots: Iterable[Any]) -> set[Any]:
    """Return the ids of the visible artifacts among `roots` and all their descendants."""
    rows = session.rows(Artifact)
    children: dict[Any, list[Any]] = {}
    for key, snapshot in rows.items():
        children.setdefault(snapshot.get("parent_id"), []).append(key)
    found: set[Any] = set()
    pending = [key for key in roots if key in rows]
    while pending:
        key = pending.pop()
        if key not in found:
            found.add(key)
            pending.extend(children.get(key, ()))
    return found


def delete_subtrees(session: InMemorySession, roots: Iterable[Any]) -> None:
    """Stage the deletion of the artifacts among `roots`, their descendants and their config links (D17)."""
    for key in subtree_keys(session, roots):
        session.stage(Artifact, key, None)
        if session.find(ConfigArtifact, key) is not None:
            session.stage(ConfigArtifact, key, None)


class InMemoryArtifactStore(InMemoryRepository[Artifact, ULID], ArtifactStore):
    """Artifact repository over an in-memory session; tree reads walk the session's rows."""

    def __init__(self, session: InMemorySession) -> None:
        """Bind the repository to a session."""
        super().__init__(session, Artifact)

    async def save(self, entity: Artifact) -> Artifact:
        """Stage the artifact; a parent that this session cannot see raises `ConflictError`, as on SQL."""
        if entity.parent_id is not None:
            entity.parent_id = id_key(entity.parent_id)
            if self.s.find(Artifact, entity.parent_id) is None:
                raise ConflictError(MISSING_REFERENCE)
        return await super().save(entity)

    async def find_subtree(self, start_id: ULID) -> Sequence[Artifact]:
        """Return the artifact and all its descendants, ordered by id."""
        keys = sorted(subtree_keys(self.s, [id_key(start_id)]))
        return [materialize(Artifact, snapshot) for key in keys if (snapshot := self.s.find(Artifact, key))]

    async def find_subtree_rows(self, start_id: ULID) -> Sequence[ArtifactRow]:
        """Return the artifact and all its descendants as rows, ordered by id (copies, like every read here)."""
        return [ArtifactRow.of(artifact) for artifact in await self.find_subtree(start_id)]

    async def level_of(self, artifact_id: ULID) -> int | None:
        """Return the level of the artifact this session sees (its data is not copied), or None."""
        snapshot = self.s.find(Artifact, id_key(artifact_id))
        return None if snapshot is None else snapshot["level"]

    async def get_root_artifact(self, artifact_id: ULID) -> Artifact | None:
        """Walk up the parent chain to the root."""
        snapshot = self._root_snapshot(artifact_id)
        return None if snapshot is None else materialize(Artifact, snapshot)

    async def root_id_of(self, artifact_id: ULID) -> ULID | None:
        """Walk up the parent chain to the root; its id (nothing is copied)."""
        snapshot = self._root_snapshot(artifact_id)
        return None if snapshot is None else snapshot["id"]

    def _root_snapshot(self, artifact_id: ULID) -> Snapshot | None:
        snapshot = self.s.find(Artifact, id_key(artifact_id))
        seen: set[Any] = set()
        while snapshot is not None and snapshot.get("parent_id") is not None and snapshot["id"] not in seen:
            seen.add(snapshot["id"])
            parent = self.s.find(Artifact, snapshot["parent_id"])
            if parent is None:
                break
            snapshot = parent
        return snapshot

    async def linked_config_id(self, artifact_id: ULID) -> ULID | None:
        """Return the id of the config linked to this artifact, or None."""
        link = self.s.find(ConfigArtifact, id_key(artifact_id))
        return None if link is None else link["config_id"]

    # ---------------------------------------------------------------- deletes take the subtree along (D17)

    async def delete(self, entity: Artifact) -> None:
        """Stage the deletion of the artifact, its subtree and their config links."""
        if entity.id is not None:
            await self.delete_by_id(entity.id)

    async def delete_by_id(self, id: ULID) -> None:
        """Stage the deletion of the artifact with this id, its subtree and their config links."""
        delete_subtrees(self.s, [id_key(id)])

    async def delete_all_by_id(self, ids: Sequence[ULID]) -> None:
        """Stage the deletion of the artifacts with these ids, their subtrees and their config links."""
        delete_subtrees(self.s, [id_key(i) for i in ids])

    async def delete_all(self) -> None:
        """Stage the deletion of every artifact and every config link."""
        for key in list(self.s.rows(ConfigArtifact)):
            self.s.stage(ConfigArtifact, key, None)
        await super().delete_all()


__all__ = ["MISSING_REFERENCE", "InMemoryArtifactStore", "delete_subtrees", "subtree_keys"]
