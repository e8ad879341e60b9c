"""Artifact schemas: hierarchy labels, JSON-safe output, tree nodes, DataFrames, input bounds."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from typing import Any

import numpy as np
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


def _object_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """What `from_dataframe` stores: the object array's rows, infinities in number columns as missing."""
    numbers = frame.select_dtypes(include="number")
    frame = frame.copy()
    frame[numbers.columns] = numbers.mask(numbers.isin([np.inf, -np.inf]))
    return frame.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[arg-type]


def _same_values(got: list[list[Any]], expected: list[list[Any]]) -> None:
    assert len(got) == len(expected)
    for row, wanted in zip(got, expected, strict=True):
        assert type(row) is list
        assert [type(value) for value in row] == [type(value) for value in wanted]
        assert all(a == b or (a != a and b != b) for a, b in zip(row, wanted, strict=True))


MIXED_COLUMNS = {
    "location": ["a", None, "b", "c"],
    "rain": [1.5, np.nan, np.inf, -np.inf],
    "cases": [1, 2, 3, 4],
    "flag": [True, False, True, False],
    "when": pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-04"]),
    "small": np.array([0.1, np.nan, np.inf, 1], dtype=np.float32),
    "nullable": pd.array([1, None, 3, 4], dtype="Int64"),
    "period": pd.period_range("2024-01", periods=4, freq="M"),
    "objects": pd.Series([{"k": 1}, None, 3.5, "s"], dtype=object),
    "rain2": [0.5, 1.5, 2.5, np.nan],
    "nullable_float": pd.array([np.inf, None, 2.5, -np.inf], dtype="Float64"),
    "complex": np.array([1 + 2j, complex(np.inf, 0), -np.inf, complex(np.inf, 1)]),
    "object_inf": pd.Series([np.inf, "x", -np.inf, 1], dtype=object),
}


@pytest.mark.parametrize("cells", [10, 1_000_000])  # read in runs of column types / as one object array
def test_from_dataframe_stores_the_object_arrays_values_for_every_column_type(
    cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("chapkit.domain.dataframes._SMALL_FRAME", cells)
    frame = pd.DataFrame(MIXED_COLUMNS)
    for columns in (list(MIXED_COLUMNS), ["rain", "rain2", "cases"], ["location", "rain", "rain2"], ["flag"]):
        _same_values(PandasDataFrame.from_dataframe(frame[columns]).data, _object_rows(frame[columns]))
    forecast = pd.concat(
        [frame[["location"]], pd.DataFrame(np.arange(40.0).reshape(4, 10)).add_prefix("sample_")], axis=1
    )
    _same_values(PandasDataFrame.from_dataframe(forecast).data, _object_rows(forecast))
    assert PandasDataFrame.from_dataframe(pd.DataFrame(index=range(2))).data == [[], []]


def test_a_frame_held_as_columns_reads_back_with_the_dtypes_rows_give() -> None:
    columns = {
        "floats": [1.5, 2.0, float("nan")],
        "ints": [1, 2, 3],
        "bools": [True, False, True],
        "mixed": [1, 2.5, 3],
        "missing": [1, None, 3],
        "text": ["a", None, "b"],
        "beyond_int64": [1, 2**63, 3],
        "beyond_uint64": [1, 2**70, 3],
        "bool_and_int": [True, 1, 0],
    }
    held = PandasDataFrame.from_columns(list(columns), list(columns.values()))
    rows = [list(row) for row in zip(*columns.values(), strict=True)]
    pd.testing.assert_frame_equal(held.to_dataframe(), pd.DataFrame(rows, columns=list(columns)))
    assert held.to_dataframe().dtypes.tolist() == pd.DataFrame(rows, columns=list(columns)).dtypes.tolist()


@pytest.mark.parametrize(
    "columns",
    [
        {"a": [1.5, 2.0, float("nan")], "b": [0.0, -1.0, 2.5]},
        {"a": [1, 2, 3], "b": [-4, 5, 2**62]},
        {"a": [True, False, True]},
        {"a": [1.5, 2.0, 3.0], "b": [1, 2, 3]},  # two numpy types: built column by column
    ],
)
def test_a_numeric_frame_held_as_columns_reads_back_as_rows_give_it(columns: dict[str, list[Any]]) -> None:
    held = PandasDataFrame.from_columns(list(columns), list(columns.values()))
    expected = pd.DataFrame([list(row) for row in zip(*columns.values(), strict=True)], columns=list(columns))
    frame = held.to_dataframe()
    pd.testing.assert_frame_equal(frame, expected)
    assert frame.dtypes.tolist() == expected.dtypes.tolist() and frame.columns.dtype == expected.columns.dtype
    # Frames with the same names share no column index: naming one frame's columns names no other's.
    frame.columns.name = "renamed"
    assert held.to_dataframe().columns.name is None
    frame.iloc[0, 0] = frame.iloc[1, 0]
    pd.testing.assert_frame_equal(held.to_dataframe(), expected)


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


def test_a_frame_pickled_when_it_lived_in_the_artifact_module_still_loads() -> None:
    frame = PandasDataFrame(columns=["x", "y"], data=[[1, "a"], [2.5, None]])
    pickled = pickle.dumps({"history": frame}, protocol=0)
    assert b"chapkit.domain.dataframes" in pickled
    earlier = pickled.replace(b"chapkit.domain.dataframes", b"chapkit.domain.artifact")
    assert pickle.loads(earlier)["history"] == frame  # the test's own bytes
