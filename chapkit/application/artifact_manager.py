"""`ArtifactManager`: artifact use cases — levels kept right, trees built in one read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from ulid import ULID

from chapkit.application.manager import BaseManager, Changes
from chapkit.domain.artifact import (
    Artifact,
    ArtifactHierarchy,
    ArtifactIn,
    ArtifactOut,
    ArtifactRow,
    ArtifactTreeNode,
)
from chapkit.domain.artifact_content import (
    ArtifactDownload,
    TableFormat,
    artifact_download,
    artifact_metadata,
    without_content,
)
from chapkit.domain.artifact_tree import (
    ArtifactTreeError,
    assemble_tree,
    encode_tree,
    ensure_not_own_ancestor,
    level_under,
    link_rows,
    relevel_descendants,
)
from chapkit.domain.config import STORED_CONFIG, BaseConfig, ConfigOut
from chapkit.domain.errors import ConflictError
from chapkit.domain.ids import stored_ulid
from chapkit.domain.ports.artifact_store import ArtifactStore
from chapkit.domain.ports.config_store import ConfigStore


class ArtifactManager(BaseManager[Artifact, ArtifactIn, ArtifactOut, ULID]):
    """Manager for Artifact entities with hierarchical tree operations."""

    def __init__(
        self,
        repo: ArtifactStore,
        hierarchy: ArtifactHierarchy | None = None,
        config_repo: ConfigStore | None = None,
    ) -> None:
        """Initialize artifact manager with repository, hierarchy, and optional config repo."""
        super().__init__(repo, Artifact, ArtifactOut)
        self.repo: ArtifactStore = repo
        self.hierarchy = hierarchy
        self.config_repo = config_repo
        self._labels: dict[int, tuple[str | None, str | None]] = {}  # per level: a tree has few levels, many nodes

    # ---------------------------------------------------------------- public API

    async def find_subtree(self, start_id: ULID, *, content: bool = True) -> list[ArtifactTreeNode]:
        """Find all artifacts in the subtree rooted at the given ID (one read, ordered by id).

        With `content=False` each node's data leaves its content out (`without_content`).
        """
        rows = await self.repo.find_subtree_rows(start_id)
        return self._tree_nodes(rows, content, leaves_loaded=False)

    async def expand_artifact(self, artifact_id: ULID, *, content: bool = True) -> ArtifactTreeNode | None:
        """Expand a single artifact with hierarchy metadata but without children (`children` is None)."""
        artifact = await self.repo.find_by_id(artifact_id)
        if artifact is None:
            return None
        (node,) = self._tree_nodes([ArtifactRow.of(artifact)], content, leaves_loaded=False)
        node.config = await self._config_of_root(artifact_id)
        return node

    async def build_tree(self, start_id: ULID, *, content: bool = True) -> ArtifactTreeNode | None:
        """Build the tree rooted at the given artifact; leaves have `children = []`."""
        rows = await self.repo.find_subtree_rows(start_id)
        root = assemble_tree(start_id, self._tree_nodes(rows, content, leaves_loaded=True))
        if root is not None:
            root.config = await self._config_of_root(start_id)
        return root

    async def tree_json(self, start_id: ULID, *, content: bool = True) -> bytes | None:
        """`build_tree` as JSON (what `$tree` sends; None for an unknown id), without a model per node.

        The nodes are dicts of the stored values, their ids the stored text, encoded in one pass
        (`encode_tree`): the same document `build_tree(...).model_dump_json()` writes, several times faster
        for a large tree.
        """
        rows = await self.repo.find_subtree_rows(start_id)
        nodes = self._node_dicts(rows, content)
        root = link_rows(str(start_id), rows, nodes)
        if root is None:
            return None
        root["config"] = _CONFIG_JSON.dump_python(await self._config_of_root(start_id), mode="json")
        return encode_tree(root)

    async def download(self, artifact_id: ULID, table_format: TableFormat | None = None) -> ArtifactDownload | None:
        """The file `$download` sends for an artifact (`None` for an unknown id).

        Raises the problems of `artifact_download` (no content, a format for what is no table, a
        format this service cannot write).
        """
        artifact = await self.repo.find_by_id(artifact_id)
        return None if artifact is None else artifact_download(artifact.data, table_format)

    async def metadata(self, artifact_id: ULID) -> dict[str, Any] | None:
        """The `metadata` object of an artifact's data, `{}` when it has none (`None` for an unknown id)."""
        artifact = await self.repo.find_by_id(artifact_id)
        return None if artifact is None else artifact_metadata(artifact.data)

    # ---------------------------------------------------------------- lifecycle

    def _should_assign_field(self, field: str, value: object) -> bool:
        """Never take `level` from a request: it is computed from the parent (`pre_update`).

        Assigned, even briefly, a level no column holds (`2**70`) would reach the database with the
        first query of `pre_update` (autoflush) and refuse an update that ignores it anyway.
        """
        if field == "level":
            return False
        return super()._should_assign_field(field, value)

    async def _stage(self, data: ArtifactIn) -> tuple[Artifact, Changes | None]:
        """Check the parent exists before a stored artifact is changed, so an unknown parent is a clear 409.

        A stored artifact given an unknown parent would reach the database with the next query's
        autoflush (a foreign-key error). A new artifact is not in the session yet: `pre_save` reads its
        parent for its level and refuses an unknown one with the same error, in one read instead of two.
        """
        if data.parent_id is not None and data.id is not None and not await self.repo.exists_by_id(data.parent_id):
            raise ArtifactTreeError(f"Parent artifact {data.parent_id} not found")
        return await super()._stage(data)

    async def pre_save(self, entity: Artifact, data: ArtifactIn) -> None:
        """Compute and set artifact level before saving."""
        entity.level = await self._compute_level(entity.parent_id)

    async def pre_update(self, entity: Artifact, data: ArtifactIn, old_values: dict[str, object]) -> None:
        """Recompute the level; on a move, refuse cycles and re-level every descendant (saved, D7)."""
        artifact_id = entity.id
        if artifact_id is None:  # not stored yet: nothing below it to keep consistent
            entity.level = await self._compute_level(entity.parent_id)
            return
        previous_level = old_values.get("level", entity.level)
        moved = "parent_id" in old_values and old_values["parent_id"] != entity.parent_id
        subtree = None
        if moved:
            subtree = await self.repo.find_subtree(artifact_id)
            ensure_not_own_ancestor(artifact_id, entity.parent_id, {node.id for node in subtree if node.id})
            if entity.parent_id is not None and (config_id := await self.repo.linked_config_id(artifact_id)):
                raise ConflictError(
                    f"Artifact {artifact_id} is linked to config {config_id}; unlink it before moving it under a parent"
                )
        entity.level = await self._compute_level(entity.parent_id)
        if moved or previous_level != entity.level:
            if subtree is None:
                subtree = await self.repo.find_subtree(artifact_id)
            await self.repo.save_all(relevel_descendants(artifact_id, entity.level, subtree))

    # ---------------------------------------------------------------- helpers

    async def _compute_level(self, parent_id: ULID | None) -> int:
        """Compute the level of an artifact based on its parent."""
        if parent_id is None:
            return level_under(None)
        parent_level = await self.repo.level_of(parent_id)  # not the parent's data, which can be a large model
        if parent_level is None:
            raise ArtifactTreeError(f"Parent artifact {parent_id} not found")
        return level_under(parent_level)

    async def _config_of_root(self, artifact_id: ULID) -> ConfigOut[BaseConfig] | None:
        """The config linked to this artifact when it is a linked root and linking is on."""
        if self.config_repo is None:
            return None
        config = await self.config_repo.find_by_root_artifact_id(artifact_id)
        if config is None:
            return None
        # Read as stored: the service's own schema (which may declare the reserved names) checked it.
        return ConfigOut[BaseConfig].model_validate(config, from_attributes=True, context={STORED_CONFIG: True})

    def _describe_level(self, level: int) -> tuple[str | None, str | None]:
        """The hierarchy's name and the label of `level` (both None without a hierarchy)."""
        if self.hierarchy is None:
            return None, None
        meta = self.hierarchy.describe(level)
        hierarchy = meta.get(self.hierarchy.hierarchy_key)
        label = meta.get(self.hierarchy.label_key)
        return (None if hierarchy is None else str(hierarchy)), (None if label is None else str(label))

    def _node_dicts(self, rows: Sequence[ArtifactRow], content: bool) -> list[dict[str, Any]]:
        """Tree nodes as dicts of the rows' stored values in `ArtifactTreeNode`'s field order (not validated).

        The values come from storage and already have their types: a tree of thousands of nodes would
        otherwise spend most of its time validating them again. Ids stay text, `children` is an empty
        list and `config` None; each level's labels are described once.
        """
        labels = self._labels
        for level in {row.level for row in rows} - labels.keys():
            labels[level] = self._describe_level(level)
        return [
            {
                "id": id,
                "created_at": created_at,
                "updated_at": updated_at,
                "data": data if content else without_content(data),
                "parent_id": parent_id,
                "level": level,
                "level_label": labels[level][1],
                "hierarchy": labels[level][0],
                "children": [],
                "config": None,
            }
            for id, parent_id, level, data, created_at, updated_at in rows
        ]

    def _tree_nodes(self, rows: Sequence[ArtifactRow], content: bool, *, leaves_loaded: bool) -> list[ArtifactTreeNode]:
        """Tree node models of the rows, their ids ULIDs; `children` is `[]` when `leaves_loaded`, else None."""
        nodes = self._node_dicts(rows, content)
        for node in nodes:
            node["id"] = stored_ulid(node["id"])
            if node["parent_id"] is not None:
                node["parent_id"] = stored_ulid(node["parent_id"])
            if not leaves_loaded:
                node["children"] = None
        return [trusted_tree_node(node) for node in nodes]


_TREE_NODE_FIELDS = frozenset(ArtifactTreeNode.model_fields)
_CONFIG_JSON: TypeAdapter[ConfigOut[BaseConfig] | None] = TypeAdapter(ConfigOut[BaseConfig] | None)
"""A tree node's `config` as its field (the same type) encodes it."""


def trusted_tree_node(values: dict[str, Any]) -> ArtifactTreeNode:
    """`ArtifactTreeNode.model_construct(**values)` for a complete set of typed values, about four times faster.

    It sets what `model_construct` sets (`__dict__`, the fields set, no extra, no private state) without
    its per-field alias and default handling, which `values` (one entry per field) does not need.
    """
    node = ArtifactTreeNode.__new__(ArtifactTreeNode)
    object.__setattr__(node, "__dict__", values)
    object.__setattr__(node, "__pydantic_fields_set__", set(_TREE_NODE_FIELDS))
    object.__setattr__(node, "__pydantic_extra__", None)
    object.__setattr__(node, "__pydantic_private__", None)
    return node


__all__ = ["ArtifactManager", "trusted_tree_node"]
