"""Tree rules for artifacts: levels, moves that would create cycles, and assembling a tree from a flat list."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from pydantic_core import to_json
from ulid import ULID

from chapkit.domain.artifact import ArtifactRow
from chapkit.domain.errors import ConflictError
from chapkit.domain.json_safe import to_json_safe


class ArtifactTreeError(ConflictError, ValueError):
    """A change that would break the artifact tree: an unknown parent, or an artifact under its own subtree.

    A 409 problem: the request is well formed, but does not fit what is stored (D14).
    """


class LevelledNode(Protocol):
    """What the level rules need from an artifact: its id, its parent's id and its level."""

    id: Any
    parent_id: Any
    level: int


class TreeNode(Protocol):
    """What tree assembly needs: an id, a parent id and a `children` list to fill."""

    @property
    def id(self) -> Any:
        """The node's id."""

    @property
    def parent_id(self) -> Any:
        """The parent's id (None for a root)."""

    children: Any


LevelledT = TypeVar("LevelledT", bound=LevelledNode)
NodeT = TypeVar("NodeT", bound=TreeNode)


def level_under(parent_level: int | None) -> int:
    """Level of an artifact whose parent has `parent_level` (None: no parent, so a root at level 0)."""
    return 0 if parent_level is None else parent_level + 1


def ensure_not_own_ancestor(artifact_id: ULID, new_parent_id: ULID | None, subtree_ids: Collection[ULID]) -> None:
    """Raise `ArtifactTreeError` when `new_parent_id` is the artifact itself or one of its descendants.

    `subtree_ids` are the ids of the artifact's subtree, the artifact included.
    """
    if new_parent_id is None:
        return
    if new_parent_id == artifact_id:
        raise ArtifactTreeError(f"Artifact {artifact_id} cannot be its own parent")
    if new_parent_id in subtree_ids:
        raise ArtifactTreeError(
            f"Artifact {artifact_id} cannot be moved under {new_parent_id}, which is one of its descendants"
        )


def relevel_descendants(root_id: ULID, root_level: int, subtree: Iterable[LevelledT]) -> list[LevelledT]:
    """Give every descendant of `root_id` in `subtree` the level below its parent; return those that changed.

    `subtree` holds the descendants (the root itself may be included; it is left as it is). Nodes not
    connected to `root_id` through `subtree` keep their level.
    """
    by_parent: dict[Any, list[LevelledT]] = {}
    for node in subtree:
        if node.id != root_id:
            by_parent.setdefault(node.parent_id, []).append(node)
    changed: list[LevelledT] = []
    pending: list[tuple[Any, int]] = [(root_id, root_level)]
    while pending:
        parent_id, parent_level = pending.pop()
        for child in by_parent.get(parent_id, ()):
            level = parent_level + 1
            if child.level != level:
                child.level = level
                changed.append(child)
            pending.append((child.id, level))
    return changed


def assemble_tree(root_id: ULID, nodes: Sequence[NodeT]) -> NodeT | None:
    """Link a flat subtree into a tree and return its root (None when `root_id` is not among `nodes`).

    Every node gets a `children` list, in the order of `nodes`; leaves keep `children = []` ("loaded,
    none"), unlike a single expanded artifact whose `children` is None ("not loaded"). Nodes whose parent
    is not in `nodes` are left out, except the root.
    """
    by_id: dict[Any, NodeT] = {}
    for node in nodes:
        if node.children is None or node.children:  # already an empty list: assigning again costs time
            node.children = []
        by_id[node.id] = node
    root = by_id.get(root_id)
    if root is None:
        return None
    for node in nodes:
        if node is root:
            continue
        parent = by_id.get(node.parent_id)
        if parent is not None:
            parent.children.append(node)
    return root


def link_rows(root_id: str, rows: Sequence[ArtifactRow], nodes: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """Link node dicts made from `rows` (one per row, in order) into a tree; return the root's.

    The same tree as `assemble_tree`: every node's `children` list (already in it) gets its children in
    the order of `rows`; nodes whose parent is not among `rows` are left out, except the root; None when
    `root_id` is not among them.
    """
    by_id = {row.id: node for row, node in zip(rows, nodes, strict=True)}
    root = by_id.get(root_id)
    if root is None:
        return None
    for row, node in zip(rows, nodes, strict=True):
        if node is not root and (parent := by_id.get(row.parent_id)) is not None:  # type: ignore[arg-type]
            parent["children"].append(node)
    return root


def encode_tree(root: dict[str, Any]) -> bytes:
    """JSON of a tree of node dicts, as `ArtifactTreeNode.model_dump_json()` writes the same tree.

    Each node holds an `ArtifactTreeNode`'s members in its field order, its `data` as stored, its
    `children` a list of nodes and its `config` a JSON value. Encoded in one pass when the tree goes
    as it is; otherwise (data JSON cannot carry, which `JsonSafe` replaces, or a chain deeper than
    pydantic's serializer goes, a few hundred levels) node by node without recursion.
    """
    try:
        return to_json(root, inf_nan_mode="null")
    except (ValueError, TypeError):  # what `to_json_safe` replaces; PydanticSerializationError is a ValueError
        return _encode_node_by_node(root)


def _encode_node_by_node(root: dict[str, Any]) -> bytes:
    parts: list[bytes] = []
    pending: list[dict[str, Any] | bytes] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, bytes):
            parts.append(item)
            continue
        head = {key: value for key, value in item.items() if key not in _LAST_MEMBERS}
        parts.append(_encode_head(head)[:-1])
        tail = b',"config":' + to_json(item["config"], inf_nan_mode="null") + b"}"
        children = item["children"]
        if children is None:
            parts.append(b',"children":null' + tail)
            continue
        parts.append(b',"children":[')
        pending.append(b"]" + tail)
        for index in range(len(children) - 1, -1, -1):
            pending.append(children[index])
            if index:
                pending.append(b",")
    return b"".join(parts)


_LAST_MEMBERS = ("children", "config")
"""The members a node's JSON ends with, in this order (`ArtifactTreeNode`'s last fields)."""


def _encode_head(head: dict[str, Any]) -> bytes:
    """A node's members but its last ones; data JSON cannot carry is replaced as `JsonSafe` replaces it."""
    try:
        return to_json(head, inf_nan_mode="null")
    except (ValueError, TypeError):  # what `to_json_safe` replaces; PydanticSerializationError is a ValueError
        return to_json({**head, "data": to_json_safe(head["data"])}, inf_nan_mode="null")


__all__ = [
    "ArtifactTreeError",
    "LevelledNode",
    "TreeNode",
    "assemble_tree",
    "encode_tree",
    "ensure_not_own_ancestor",
    "level_under",
    "link_rows",
    "relevel_descendants",
]
