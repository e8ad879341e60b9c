"""Artifact schemas: hierarchy labels, JSON-safe output, tree nodes, DataFrames, input bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError
from ulid import ULID

from chapkit import ArtifactHierarchy, ArtifactIn, ArtifactOut, ArtifactTreeNode, PandasDataFrame


class Opaque:
    def __repr__(self) -> str:
        return "O" * 300


def _out(data: Any) -> ArtifactOut:
    now = datetime.now(UTC)
    return ArtifactOut(id=ULID(), created_at=now, updated_at=now, data=data, level=0)


def test_hierarchy_labels_levels_and_describes_them() -> None:
    hierarchy = ArtifactHierarchy(name="ml", level_labels={0: "train", 1: "predict"})
    assert hierarchy.label_for(0) == "train" and hierarchy.label_for(5) == "level_5"
    assert hierarchy.describe(1) == {"hierarchy": "ml", "level_depth": 1, "level_label": "predict"}
    assert (hierarchy.hierarchy_key, hierarchy.depth_key, hierarchy.label_key) == (
        "hierarchy",
        "level_depth",
        "level_label",
    )
    with pytest.raises(ValidationError):
        hierarchy.name = "other"  # type: ignore[misc]


def test_artifact_out_replaces_only_what_json_cannot_hold() -> None:
    out = _out({"ok": [1, "two"], "model": Opaque()})
    data = json.loads(out.model_dump_json())["data"]
    assert data["ok"] == [1, "two"]
    assert data["model"]["_type"] == "Opaque" and data["model"]["_module"] == __name__
    assert data["model"]["_repr"] == "O" * 200 + "..."
    assert data["model"]["_serialization_error"]


def test_tree_node_from_artifact_keeps_fields_and_starts_without_children() -> None:
    out = _out({"x": 1})
    node = ArtifactTreeNode.from_artifact(out)
    assert (node.id, node.data, node.level) == (out.id, {"x": 1}, 0)
    assert node.children is None and node.config is None and node.level_label is None


def test_pandas_dataframe_round_trip_and_type_check() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    wrapped = PandasDataFrame.from_dataframe(frame)
    assert wrapped.columns == ["a", "b"] and wrapped.data == [[1, "x"], [2, "y"]]
    pd.testing.assert_frame_equal(PandasDataFrame.model_validate_json(wrapped.model_dump_json()).to_dataframe(), frame)
    with pytest.raises(TypeError, match="Expected a pandas DataFrame"):
        PandasDataFrame.from_dataframe({"a": [1]})  # type: ignore[arg-type]


def test_artifact_in_refuses_json_nested_too_deeply_and_bad_parent_ids() -> None:
    deep: Any = []
    for _ in range(500):
        deep = [deep]
    with pytest.raises(ValidationError, match="nests deeper"):
        ArtifactIn(data=deep)
    with pytest.raises(ValidationError):
        ArtifactIn.model_validate({"data": 1, "parent_id": "not-a-ulid"})
    assert ArtifactIn(data=Opaque()).parent_id is None


def test_artifact_in_refuses_unencodable_text_anywhere_in_json_data() -> None:
    for data in ("\ud800", {"k": ["\udc80"]}, {"\udbff": 1}):
        with pytest.raises(ValidationError, match="not valid Unicode"):
            ArtifactIn(data=data)
    assert ArtifactIn(data={"\U0001f600": ["é"]}).data == {"\U0001f600": ["é"]}
