"""Tree rules for artifacts: levels, moves that would create cycles, and assembling a tree from a flat list."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from ulid import ULID

from chapkit.domain.artifact import ArtifactTreeNode
from chapkit.domain.errors import ConflictError


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


ONE_PASS_DEPTH = 100
"""Trees at most this deep are encoded by pydantic in one pass (about twice as fast as node by node)."""


def tree_depth(root: TreeNode) -> int:
    """Number of levels below `root` (0 for a node without children), counted without recursion."""
    deepest = 0
    pending: list[tuple[TreeNode, int]] = [(root, 0)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in node.children or ())
    return deepest


def dump_tree_json(root: ArtifactTreeNode) -> str:
    """Encode a tree as JSON without recursion, so trees of any depth can be returned.

    pydantic's serializer stops a few hundred levels down, and a chain of artifacts can be far deeper:
    past `ONE_PASS_DEPTH` levels each node is encoded on its own (its `children` member comes last) and
    the pieces are joined.
    """
    if tree_depth(root) <= ONE_PASS_DEPTH:
        return root.model_dump_json()
    parts: list[str] = []
    pending: list[ArtifactTreeNode | str] = [root]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        head = item.model_dump_json(exclude={"children"})[:-1]
        if item.children is None:
            parts.append(head + ',"children":null}')
            continue
        parts.append(head + ',"children":[')
        pending.append("]}")
        for index in range(len(item.children) - 1, -1, -1):
            pending.append(item.children[index])
            if index:
                pending.append(",")
    return "".join(parts)


__all__ = [
    "ONE_PASS_DEPTH",
    "ArtifactTreeError",
    "LevelledNode",
    "TreeNode",
    "assemble_tree",
    "dump_tree_json",
    "ensure_not_own_ancestor",
    "level_under",
    "relevel_descendants",
    "tree_depth",
]
