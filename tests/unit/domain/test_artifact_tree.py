"""Tree rules: levels, refusing cycles, re-levelling after a move, assembling a flat subtree."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter
from ulid import ULID

from chapkit import ArtifactTreeError, ArtifactTreeNode, BaseConfig, ConfigOut, ConflictError
from chapkit.domain.artifact import ArtifactRow
from chapkit.domain.artifact_tree import (
    assemble_tree,
    encode_tree,
    ensure_not_own_ancestor,
    level_under,
    link_rows,
    relevel_descendants,
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


class Opaque:
    """A value JSON cannot carry: `JsonSafe` describes it instead."""

    def __repr__(self) -> str:
        return "Opaque()"


def _row(node_id: ULID, parent_id: ULID | None, data: Any, level: int = 0) -> ArtifactRow:
    return ArtifactRow(str(node_id), None if parent_id is None else str(parent_id), level, data, NOW, NOW)


def _node_dict(row: ArtifactRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "data": row.data,
        "parent_id": row.parent_id,
        "level": row.level,
        "level_label": "train" if row.level == 0 else None,
        "hierarchy": "h",
        "children": [],
        "config": None,
    }


def _node_model(node: dict[str, Any]) -> ArtifactTreeNode:
    return ArtifactTreeNode.model_validate({**node, "children": [_node_model(child) for child in node["children"]]})


AWKWARD_DATA = [
    {"x": 1, "nested": {"list": [1, 2.5, None, True], "text": 'é\u2028"quoted"'}},
    {"nan": float("nan"), "inf": float("inf"), "minus": float("-inf")},
    {1: "int key", "when": NOW, "id": ULID(), "raw": b"bytes", "set": {3}},
    {"model": Opaque(), "fine": [1, 2], (1, 2): "tuple key"},
    Opaque(),
    "just text",
    None,
]


@pytest.mark.parametrize("data", AWKWARD_DATA, ids=range(len(AWKWARD_DATA)))
def test_encode_tree_writes_what_pydantic_writes_for_the_same_tree(data: Any) -> None:
    root_id, a, b, a1 = _ids(4)
    rows = [_row(root_id, None, {"root": True}), _row(a, root_id, data, 1), _row(b, root_id, "b", 1)]
    rows.append(_row(a1, a, [data], 2))
    nodes = [_node_dict(row) for row in rows]
    root = link_rows(str(root_id), rows, nodes)
    assert root is not None
    config = {"id": ULID(), "created_at": NOW, "updated_at": NOW, "name": "c"}
    config["data"] = {"k": [1, 2], "wait": timedelta(seconds=1.5), "raw": b"x", "nan": float("nan")}
    root["config"] = TypeAdapter(ConfigOut[BaseConfig]).dump_python(ConfigOut[BaseConfig](**config), mode="json")
    assert encode_tree(root) == _node_model(root).model_dump_json().encode()


def test_link_rows_links_children_in_row_order_and_leaves_the_unlinked_out() -> None:
    root, a, b, a1, outside = _ids(5)
    rows = [_row(root, ULID(), 0), _row(a1, a, 3), _row(a, root, 1), _row(b, root, 2), _row(outside, ULID(), 4)]
    nodes = [_node_dict(row) for row in rows]
    tree = link_rows(str(root), rows, nodes)
    assert tree is not None and tree["id"] == str(root)
    assert [child["id"] for child in tree["children"]] == [str(a), str(b)]
    assert [child["id"] for child in tree["children"][0]["children"]] == [str(a1)]
    assert link_rows(str(ULID()), rows, nodes) is None


def _chain(depth: int, data: Any = None) -> dict[str, Any]:
    ids = _ids(depth + 1)
    rows = [_row(ids[0], None, data)] + [
        _row(child, parent, data, step + 1) for step, (parent, child) in enumerate(itertools.pairwise(ids))
    ]
    root = link_rows(str(ids[0]), rows, [_node_dict(row) for row in rows])
    assert root is not None
    return root


@pytest.mark.parametrize("depth", [0, 3, 100, 126, 127, 400])
@pytest.mark.parametrize("data", [{"step": 1}, {"opaque": Opaque()}], ids=["plain", "opaque"])
def test_trees_of_any_depth_encode_node_by_node_where_one_pass_cannot(depth: int, data: Any) -> None:
    root = _chain(depth, data)
    if depth <= 100:  # where pydantic's own serializer goes, the documents are the same
        assert encode_tree(root) == _node_model(root).model_dump_json().encode()
    decoded = json.loads(encode_tree(root))
    levels = 0
    while decoded["children"]:
        assert len(decoded["children"]) == 1 and decoded["level"] == levels
        [decoded] = decoded["children"]
        levels += 1
    assert levels == depth and decoded["children"] == [] and decoded["config"] is None
    assert (
        decoded["data"]
        == json.loads(ArtifactTreeNode(**{**_node_dict(_row(ULID(), None, data))}).model_dump_json())["data"]
    )
