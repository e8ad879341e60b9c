"""The artifact store port: a repository of artifacts in trees, read by subtree and by root."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from ulid import ULID

from chapkit.domain.artifact import Artifact, ArtifactRow
from chapkit.domain.ports.repository import Repository


class ArtifactStore(Repository[Artifact, ULID]):
    """Storage of `Artifact` entities forming trees through `parent_id` (adapters: SQL, memory).

    Referential rules, the same on every adapter (D10, D17):
    - `parent_id` must name a stored artifact: saving an artifact under an unknown parent raises
      `ConflictError` (from `save` or, on SQL, from `commit`);
    - deleting an artifact (`delete`, `delete_by_id`, `delete_all_by_id`) deletes its whole subtree and
      the config links of every deleted artifact.
    `data` holds any picklable object. Tree reads cost a constant number of round trips whatever the
    depth or size of the tree (recursive queries on SQL).
    """

    @abstractmethod
    async def find_subtree(self, start_id: ULID) -> Sequence[Artifact]:
        """Return the artifact `start_id` and all its descendants, ordered by id (empty when unknown)."""

    @abstractmethod
    async def find_subtree_rows(self, start_id: ULID) -> Sequence[ArtifactRow]:
        """Return what `find_subtree` returns as plain read-only rows, ids as their text (`ArtifactRow`).

        For reads that change nothing (building a tree for a response): on SQL it skips the unit of
        work's bookkeeping and the ids' conversion, which are most of the cost of reading a large tree.
        Saving a change goes through `find_subtree` (or `find_by_id`) and `save`.
        """

    @abstractmethod
    async def level_of(self, artifact_id: ULID) -> int | None:
        """Return the artifact's level, or None when it is unknown, without loading anything else of it.

        What a new child's level is computed from: its parent's `data` (a trained model, often large)
        is not read for it.
        """

    @abstractmethod
    async def get_root_artifact(self, artifact_id: ULID) -> Artifact | None:
        """Return the root of the artifact's tree (the artifact itself when it is a root), or None when unknown."""

    @abstractmethod
    async def root_id_of(self, artifact_id: ULID) -> ULID | None:
        """Return the id of the root of the artifact's tree (its own id for a root), or None when unknown.

        What finds an artifact's config: no artifact of the chain is loaded (the root is often a model).
        """

    @abstractmethod
    async def linked_config_id(self, artifact_id: ULID) -> ULID | None:
        """Return the id of the config linked to this artifact, or None when it has no link."""


__all__ = ["ArtifactStore"]
