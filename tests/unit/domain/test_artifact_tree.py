"""Tree rules: levels, refusing cycles, re-levelling after a move, assembling a flat subtree."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from ulid import ULID

from chapkit import ArtifactTreeError, ArtifactTreeNode, ConflictError
from chapkit.domain.artifact_tree import (
    ONE_PASS_DEPTH,
    assemble_tree,
    dump_tree_json,
    ensure_not_own_ancestor,
    level_under,
    relevel_descendants,
    tree_depth,
)

NOW = datetime.now(UTC)


@dataclass
class Node:
    id: ULID
    parent_id: ULID | None
    level: int = 0
    children: list[Any] | None = field(default=None)


def _ids(n: int) -> list[ULID]:
    return sorted(ULID() for _ in range(n))


def test_a_root_is_level_zero_and_a_child_one_below_its_parent() -> None:
    assert level_under(None) == 0
    assert level_under(0) == 1
    assert level_under(4) == 5


def test_an_artifact_cannot_become_its_own_parent_or_descendant() -> None:
    me, child, grandchild, elsewhere = _ids(4)
    subtree = {me, child, grandchild}
    ensure_not_own_ancestor(me, None, subtree)
    ensure_not_own_ancestor(me, elsewhere, subtree)
    with pytest.raises(ArtifactTreeError, match="its own parent"):
        ensure_not_own_ancestor(me, me, subtree)
    with pytest.raises(ArtifactTreeError, match="descendants") as raised:
        ensure_not_own_ancestor(me, grandchild, subtree)
    assert isinstance(raised.value, ConflictError) and isinstance(raised.value, ValueError)
    assert raised.value.status == 409


def test_relevel_gives_each_descendant_its_parents_level_plus_one() -> None:
    root, a, b, c, d, stray = _ids(6)
    nodes = [Node(root, None, 3), Node(a, root, 1), Node(b, a, 2), Node(c, b, 3), Node(d, root, 4)]
    nodes.append(Node(stray, None, 9))
    changed = relevel_descendants(root, 3, nodes)
    assert {n.id: n.level for n in nodes} == {root: 3, a: 4, b: 5, c: 6, d: 4, stray: 9}
    assert {n.id for n in changed} == {a, b, c}  # d was already right, the root is not touched


def test_relevel_of_a_leaf_changes_nothing() -> None:
    [leaf] = _ids(1)
    assert relevel_descendants(leaf, 2, [Node(leaf, None, 2)]) == []


def test_assemble_tree_links_children_in_input_order_and_leaves_get_empty_lists() -> None:
    root, a, b, a1, a2, outside = _ids(6)
    nodes = [Node(root, None), Node(a, root), Node(b, root), Node(a1, a), Node(a2, a), Node(outside, ULID())]
    tree = assemble_tree(root, nodes)
    assert tree is not None and tree.id == root
    assert [child.id for child in tree.children or []] == [a, b]
    assert [child.id for child in tree.children[0].children] == [a1, a2]  # type: ignore[index]
    assert tree.children[1].children == []  # type: ignore[index]
    assert all(child.children == [] for child in tree.children[0].children)  # type: ignore[index]


def test_assemble_tree_of_a_subtree_ignores_the_roots_own_parent() -> None:
    parent, start, child = _ids(3)
    tree = assemble_tree(start, [Node(start, parent), Node(child, start)])
    assert tree is not None and [c.id for c in tree.children or []] == [child]


def test_assemble_tree_without_the_root_is_none() -> None:
    a, b = _ids(2)
    assert assemble_tree(a, []) is None
    assert assemble_tree(a, [Node(b, None)]) is None


def _tree_node(parent: Any = None, data: Any = None) -> Any:
    from datetime import UTC, datetime

    from chapkit import ArtifactTreeNode

    now = datetime.now(UTC)
    return ArtifactTreeNode(
        id=ULID(), created_at=now, updated_at=now, data=data, parent_id=parent, level=0, children=[]
    )


def test_dump_tree_json_equals_pydantic_for_a_shallow_tree() -> None:
    import json

    root = _tree_node(data={"x": 1})
    a, b = _tree_node(root.id, "a"), _tree_node(root.id, object())
    root.children = [a, b]
    a.children = [_tree_node(a.id, [1, 2])]
    b.children = None
    assert json.loads(dump_tree_json(root)) == json.loads(root.model_dump_json())


def test_dump_tree_json_handles_chains_deeper_than_pydantic_can() -> None:
    import json

    root = node = _tree_node()
    for _ in range(400):
        child = _tree_node(node.id)
        node.children = [child]
        node = child
    with pytest.raises(ValueError):  # pydantic's own serializer gives up at this depth
        root.model_dump_json()
    decoded = json.loads(dump_tree_json(root))
    depth = 0
    while decoded["children"]:
        [decoded] = decoded["children"]
        depth += 1
    assert depth == 400 and decoded["children"] == []


def _chain_tree(depth: int) -> ArtifactTreeNode:
    nodes = [
        ArtifactTreeNode(id=ULID(), data={"step": step}, level=step, created_at=NOW, updated_at=NOW)
        for step in range(depth + 1)
    ]
    for parent, child in itertools.pairwise(nodes):
        child.parent_id = parent.id
    root = assemble_tree(nodes[0].id, nodes)  # type: ignore[arg-type]
    assert root is not None
    return root


@pytest.mark.parametrize("depth", [0, 3, ONE_PASS_DEPTH, ONE_PASS_DEPTH + 1, 400])
def test_trees_of_any_depth_encode_to_the_same_json(depth: int) -> None:
    root = _chain_tree(depth)
    assert tree_depth(root) == depth
    decoded = json.loads(dump_tree_json(root))
    levels = 0
    while decoded["children"]:
        assert decoded["data"] == {"step": levels} and len(decoded["children"]) == 1
        [decoded] = decoded["children"]
        levels += 1
    assert levels == depth and decoded["children"] == [] and decoded["config"] is None
