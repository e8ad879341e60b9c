"""Request bodies read with their frames held as columns: the same values as `json.loads`, without a list per row."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.frames import loads_with_frames
from chapkit.domain.ml import PredictRequest, TrainRequest
from chapkit.domain.ml_checks import ModelRequirements, PeriodType, diagnose_predict, diagnose_train
from chapkit.domain.ml_horizon import future_periods

CONFIG_ID = "01K0000000000000000000000Z"
FRAME = {
    "columns": ["time_period", "location", "rainfall", "disease_cases"],
    "data": [["2024-01", "oslo", 1.5, 3], ["2024-02", "oslo", None, 4], ["2024-01", "bergen", 2, None]],
}


def held_as_columns(frame: Any) -> bool:
    return isinstance(frame, PandasDataFrame) and "data" not in frame.__dict__


def same_as_json_loads(body: str) -> Any:
    """Parse `body` both ways; the frames must validate to equal frames with equal DataFrames."""
    parsed = loads_with_frames(body)
    plain = json.loads(body)
    assert set(parsed) == set(plain)
    for key, value in plain.items():
        if isinstance(parsed[key], PandasDataFrame):
            expected = PandasDataFrame.model_validate(value)
            assert parsed[key] == expected
            pd.testing.assert_frame_equal(parsed[key].to_dataframe(), expected.to_dataframe())
        else:
            assert parsed[key] == value or (value != value and parsed[key] != parsed[key])  # NaN
    return parsed


def test_a_train_body_reads_its_frame_as_columns() -> None:
    parsed = same_as_json_loads(json.dumps({"config_id": CONFIG_ID, "data": FRAME, "geo": None}))
    frame = parsed["data"]
    assert held_as_columns(frame)
    assert frame.row_count == 3
    assert frame.column_values("location") == ["oslo", "oslo", "bergen"]
    assert frame.column_values("location")[0] is frame.column_values("location")[1]  # repeated text kept once
    request = TrainRequest.model_validate(parsed)
    assert request.data is frame and held_as_columns(frame)  # pydantic takes the frame as it is
    assert (
        request.data.to_dataframe().dtypes.tolist()
        == pd.DataFrame(FRAME["data"], columns=FRAME["columns"]).dtypes.tolist()
    )


def test_checks_and_horizon_never_build_rows() -> None:
    body = json.dumps({"model_artifact_id": CONFIG_ID, "historic": FRAME, "future": FRAME})
    request = PredictRequest.model_validate(loads_with_frames(body))
    needs = ModelRequirements(period_type=PeriodType.monthly, required_covariates=("rainfall",))
    codes = {item.code for item in diagnose_predict(request, needs)}
    assert codes == {"missing_values"}
    assert future_periods(request.future) == 2
    request.future.to_dataframe()
    assert held_as_columns(request.historic) and held_as_columns(request.future)
    train = TrainRequest.model_validate(loads_with_frames(json.dumps({"config_id": CONFIG_ID, "data": FRAME})))
    assert [item.code for item in diagnose_train(train, needs)] == ["missing_values"]
    assert held_as_columns(train.data)


def test_a_frame_held_as_columns_dumps_and_reads_its_rows() -> None:
    request = TrainRequest.model_validate(loads_with_frames(json.dumps({"config_id": CONFIG_ID, "data": FRAME})))
    assert request.model_dump(mode="json")["data"] == FRAME
    assert TrainRequest.model_validate_json(request.model_dump_json()).data == request.data
    assert held_as_columns(request.data)  # a dump builds the rows for itself only
    assert request.data.data == FRAME["data"]
    assert request.data.data is request.data.data


@pytest.mark.parametrize(
    "body",
    [
        # member order, whitespace, pretty printing, escapes, extra members, numbers JSON spells oddly
        '{"data": {"data": [[1, "a"], [2, "b"]], "columns": ["x", "y"]}, "config_id": "c"}',
        '  {\n  "config_id" : "c" ,\n  "data" : {\n    "columns" : [ "x" ] ,\n    "data" : [\n      [ 1 ] ,\n'
        "      [ 2 ]\n    ]\n  }\n}\n  ",
        '{"data": {"columns": ["x\\u00e9", "y"], "data": [["\\ud83d\\ude00", "\\"q\\""], ["\\\\", "]"]]}}',
        '{"data": {"columns": ["x"], "data": [[1], [2]], "schema": {"fields": []}, "index": [0, 1]}}',
        '{"data": {"columns": ["x", "y"], "data": [[NaN, 1e400], [-Infinity, 123456789012345678901234567890]]}}',
        '{"data": {"columns": ["x", "y", "z"], "data": [[true, null, [1, {"a": 2}]], [false, 0, {}]]}}',
        '{"data": {"columns": ["x"], "data": []}}',
        '{"data": {"columns": ["x"], "data": [[1]]}, "data": {"columns": ["y"], "data": [[2]]}}',  # the last wins
        '{"data": {"columns": ["x"], "data": [[1]], "data": [[2], [3]]}}',
        '{"historic": {"columns": ["a", "b"], "data": [[1, 2]]}, "future": {"columns": ["a"], "data": [[3]]}}',
        "{}",
    ],
)
def test_bodies_read_as_json_loads_reads_them(body: str) -> None:
    same_as_json_loads(body)


@pytest.mark.parametrize(
    "frame",
    [
        {"columns": ["x", "y"], "data": [[1, 2], [3]]},  # a row of another length
        {"columns": ["x"], "data": [[1, 2]]},  # rows wider than the columns
        {"columns": ["x", "x"], "data": [[1, 2]]},  # repeated names
        {"columns": [1], "data": [[1]]},  # a name that is no string
        {"columns": ["x"], "data": [[1], 2]},  # a row that is no list
        {"columns": ["x"], "data": [[1], {"a": 1}]},
        {"columns": [], "data": [[], []]},  # rows without columns
        {"columns": ["x"], "data": [[]]},
        {"data": [[1]]},  # no columns
        {"columns": ["x"]},  # no data
        {"columns": ["x"], "data": None},
        {"columns": "x", "data": [[1]]},
        {"columns": ["x"], "data": [[1]] * 5000 + [[1, 2]]},  # irregular past the first batch
    ],
)
def test_irregular_frames_are_read_as_plain_json_for_the_schema_to_refuse(frame: dict[str, Any]) -> None:
    parsed = loads_with_frames(json.dumps({"config_id": CONFIG_ID, "data": frame}))
    assert parsed == {"config_id": CONFIG_ID, "data": frame}
    assert not isinstance(parsed["data"], PandasDataFrame)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        '{"data": {"columns": ["x"], "data": [[1], [2]}}',
        '{"data": {"columns": ["x"], "data": [[1] [2]]}}',
        '{"data": {"columns": ["x"], "data": [[1], [2]]}} extra',
        '{"data": {"columns": ["x"], "data": [[1], [2],]}}',
        '{"config_id": "c",}',
        '{"config_id" "c"}',
        '{"data": {"columns": ["x"], "data": [["unterminated]]}}',
        '{"data": {"columns": ["x"], "data": [[1]]}',
        "\ufeff{}",
    ],
)
def test_malformed_bodies_raise_what_json_loads_raises(body: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(body)
    with pytest.raises(json.JSONDecodeError) as raised:
        loads_with_frames(body)
    assert (raised.value.msg, raised.value.pos) == (expected.value.msg, expected.value.pos)


@pytest.mark.parametrize("body", ['[{"data": {"columns": ["x"], "data": [[1]]}}]', "3", '"text"', "null"])
def test_bodies_that_are_no_object_are_read_by_json_loads(body: str) -> None:
    assert loads_with_frames(body) == json.loads(body)


def test_bytes_are_decoded_as_json_loads_decodes_them() -> None:
    body = json.dumps({"config_id": CONFIG_ID, "data": FRAME}, ensure_ascii=False)
    for encoded in (body.encode(), body.encode("utf-16"), body.encode("utf-32-le"), b"\xef\xbb\xbf" + body.encode()):
        assert held_as_columns(loads_with_frames(encoded)["data"])
    with pytest.raises(UnicodeDecodeError):
        loads_with_frames(b'{"config_id": "\xff"}')
    assert loads_with_frames(b'{"a": "\xed\xa0\x80"}') == json.loads(b'{"a": "\xed\xa0\x80"}')  # surrogatepass


def test_deep_json_raises_what_json_loads_raises() -> None:
    body = '{"data": {"columns": ["x"], "data": [[' + "[" * 100_000 + "]" * 100_000 + "]]}}"
    with pytest.raises(RecursionError):
        loads_with_frames(body)


def test_only_the_members_named_as_frames_are_read_as_frames() -> None:
    body = json.dumps({"data": FRAME, "other": FRAME})
    parsed = loads_with_frames(body, frame_members={"other"})
    assert parsed["data"] == FRAME and held_as_columns(parsed["other"])


_CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from(["oslo", "bergen", "2024-01", ""]),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(st.text(max_size=4), min_size=1, max_size=4, unique=True),
    rows=st.integers(min_value=0, max_value=6),
    cells=st.data(),
    indent=st.sampled_from([None, 1]),
)
def test_any_frame_reads_as_json_loads_reads_it(names: list[str], rows: int, cells: Any, indent: int | None) -> None:
    data = [[cells.draw(_CELLS) for _ in names] for _ in range(rows)]
    body = json.dumps({"config_id": CONFIG_ID, "data": {"columns": names, "data": data}}, indent=indent)
    parsed = same_as_json_loads(body)
    assert held_as_columns(parsed["data"])


def test_columns_of_one_kind_of_number_are_held_as_numpy_arrays() -> None:
    import numpy as np

    frame = loads_with_frames(json.dumps({"data": FRAME | {"data": [["2024-01", "oslo", 1.5, 3]] * 3}}))["data"]
    held = dict(zip(frame.columns, frame._column_lists, strict=True))
    assert isinstance(held["time_period"], list)
    assert held["rainfall"].dtype == np.float64 and held["disease_cases"].dtype == np.int64
    assert frame.column_values("rainfall") == [1.5] * 3 and type(frame.column_values("disease_cases")[0]) is int
    assert frame.data == [["2024-01", "oslo", 1.5, 3]] * 3


@pytest.mark.parametrize(
    "late",
    [1, 2.5, True, None, "text", 2**63, [1]],
    ids=["int", "float", "bool", "null", "text", "beyond int64", "list"],
)
def test_a_column_that_changes_kind_after_its_first_batches_reads_as_json_loads_reads_it(late: Any) -> None:
    rows = 5000  # past the first two batches
    data = [[0.5 * row, row, row % 2 == 0] for row in range(rows)]
    data[rows - 1] = [late, late, late]
    parsed = same_as_json_loads(json.dumps({"data": {"columns": ["f", "i", "b"], "data": data}}))
    assert parsed["data"].to_dataframe().dtypes.tolist() == pd.DataFrame(data).dtypes.tolist()
