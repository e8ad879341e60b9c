"""Artifact content: what `?content=false` leaves out and what `$download` sends, for every stored shape."""

from __future__ import annotations

import io
import json
import math
import pickle
import sys
from typing import Any

import pandas as pd
import pytest

from chapkit import PandasDataFrame
from chapkit.domain.artifact_content import (
    TableFormat,
    artifact_download,
    artifact_metadata,
    parse_table_format,
    without_content,
)
from chapkit.domain.errors import BadRequestError, NotAcceptableError, NotFoundError
from tests.support.artifacts import TrainedModel

FRAME = {"columns": ["location", "time_period", "sample_0"], "data": [["a", "2024-01", 1.5], ["b", "2024-01", None]]}
METADATA = {"status": "success", "config_id": "c", "started_at": "s", "completed_at": "e", "duration_seconds": 1.0}
REFERENCE_PREDICTION = {
    "ml_type": "prediction",
    "config_id": "c",
    "model_artifact_id": "m",
    "started_at": "s",
    "completed_at": "e",
    "duration_seconds": 1.0,
    "predictions": FRAME,
}
CHAP_PREDICTION = {
    "type": "ml_prediction",
    "metadata": METADATA,
    "content": FRAME,
    "content_type": "application/vnd.chapkit.dataframe+json",
    "content_size": None,
}
TRAINED = {"ml_type": "trained_model", "config_id": "c", "model": TrainedModel([0.5]), "model_type": "x"}
WORKSPACE = {
    "type": "ml_training_workspace",
    "metadata": {**METADATA, "status": "failed", "exit_code": 2, "stderr": "boom"},
    "content": b"PK\x05\x06" + b"\x00" * 18,
    "content_type": "application/zip",
    "content_size": 22,
}
RECORDS = [
    {"location": "a", "time_period": "2024-01", "sample_0": 1.5},
    {"location": "b", "time_period": "2024-01", "sample_0": None},
]


def test_without_content_leaves_out_the_content_members_of_every_shape() -> None:
    kept = {k: v for k, v in REFERENCE_PREDICTION.items() if k != "predictions"}
    assert without_content(REFERENCE_PREDICTION) == kept
    assert without_content(TRAINED) == {"ml_type": "trained_model", "config_id": "c", "model_type": "x"}
    assert without_content(CHAP_PREDICTION) == {k: v for k, v in CHAP_PREDICTION.items() if k != "content"}
    assert without_content(WORKSPACE)["metadata"]["stderr"] == "boom" and "content" not in without_content(WORKSPACE)
    assert without_content({"model": 1, "predictions": 2}) == {"model": 1, "predictions": 2}
    for kept in ([1, 2], "text", None, b"raw"):
        assert without_content(kept) == kept
    assert REFERENCE_PREDICTION["predictions"] == FRAME  # the stored data is not changed


def test_metadata_is_the_metadata_member_or_empty() -> None:
    assert artifact_metadata(WORKSPACE) == WORKSPACE["metadata"]
    assert artifact_metadata(CHAP_PREDICTION) == METADATA
    for none in (REFERENCE_PREDICTION, TRAINED, [1], None, {"metadata": "text"}):
        assert artifact_metadata(none) == {}
    assert artifact_metadata({"metadata": {"model": TrainedModel([1.0])}})["model"]["_type"] == "TrainedModel"


@pytest.mark.parametrize("data", [REFERENCE_PREDICTION, CHAP_PREDICTION])
def test_predictions_download_as_csv_json_and_parquet(data: dict[str, Any]) -> None:
    csv = artifact_download(data, TableFormat.csv)
    assert (csv.media_type, csv.extension) == ("text/csv; charset=utf-8", "csv")
    assert csv.body.decode().splitlines() == ["location,time_period,sample_0", "a,2024-01,1.5", "b,2024-01,"]
    records = artifact_download(data, TableFormat.json)
    assert (records.media_type, records.extension) == ("application/json", "json")
    assert json.loads(records.body) == RECORDS
    parquet = artifact_download(data, TableFormat.parquet)
    assert (parquet.media_type, parquet.extension) == ("application/vnd.apache.parquet", "parquet")
    frame = pd.read_parquet(io.BytesIO(parquet.body))
    assert frame["location"].tolist() == ["a", "b"] and frame["sample_0"].iloc[0] == 1.5
    assert math.isnan(frame["sample_0"].iloc[1])


def test_the_default_table_format_follows_the_content_type() -> None:
    assert artifact_download(REFERENCE_PREDICTION).extension == "csv"
    assert json.loads(artifact_download(CHAP_PREDICTION).body) == RECORDS
    as_csv = {**CHAP_PREDICTION, "content_type": "text/csv"}
    assert artifact_download(as_csv).extension == "csv"
    assert artifact_download(pd.DataFrame({"x": [1, 2]})).body == b"x\n1\n2\n"
    frame_content = {"content": PandasDataFrame(columns=["x"], data=[[1]]), "content_type": None}
    assert json.loads(artifact_download(frame_content).body) == [{"x": 1}]
    pandas_content = {"content": pd.DataFrame({"x": [math.nan, 2.0]}), "content_type": "text/csv"}
    assert artifact_download(pandas_content).body == b'x\n""\n2.0\n'  # an empty line would be no row


def test_a_trained_model_downloads_as_its_pickle() -> None:
    download = artifact_download(TRAINED)
    assert (download.media_type, download.extension) == ("application/x-pickle", "pkl")
    assert pickle.loads(download.body) == TrainedModel([0.5])
    assert pickle.loads(artifact_download({**TRAINED, "model": b"raw"}).body) == b"raw"


def test_bytes_download_as_they_are() -> None:
    download = artifact_download(WORKSPACE)
    assert (download.body, download.media_type, download.extension) == (WORKSPACE["content"], "application/zip", "zip")
    image = artifact_download({"content": b"\x89PNG", "content_type": "image/png"})
    assert (image.media_type, image.extension) == ("image/png", "png")
    unknown = artifact_download({"content": b"x"})
    assert (unknown.media_type, unknown.extension) == ("application/octet-stream", "bin")
    odd = artifact_download({"content": b"x", "content_type": "application/vnd.acme+thing; v=1"})
    assert (odd.media_type, odd.extension) == ("application/vnd.acme+thing; v=1", "bin")
    assert artifact_download(b"\x00\x01").body == b"\x00\x01"


@pytest.mark.parametrize("content_type", ["text/html\r\nSet-Cookie: a=b", "nonsense", 42, "", "a/b; c"])
def test_a_content_type_that_is_no_plain_media_type_is_not_sent(content_type: Any) -> None:
    assert artifact_download({"content": b"x", "content_type": content_type}).media_type == "application/octet-stream"


def test_anything_else_downloads_as_json_safe_json() -> None:
    download = artifact_download({"weights": [0.1, math.nan], "model": TrainedModel([1.0])})
    assert download.extension == "json"
    body = json.loads(download.body)
    assert body["weights"] == [0.1, None] and body["model"]["_type"] == "TrainedModel"
    assert json.loads(artifact_download([1, "two"]).body) == [1, "two"]
    assert json.loads(artifact_download({"content": {"a": 1}, "content_type": "application/json"}).body) == {"a": 1}
    assert json.loads(artifact_download("text").body) == "text"


def test_nothing_to_download_is_not_found() -> None:
    for empty in (None, {"type": "ml_prediction_workspace", "content": None}):
        with pytest.raises(NotFoundError, match="no content"):
            artifact_download(empty)


def test_a_format_is_for_tables_only() -> None:
    for data in (TRAINED, WORKSPACE, {"a": 1}, b"x"):  # no such form of the artifact: not found (404)
        with pytest.raises(NotFoundError, match="tables only"):
            artifact_download(data, TableFormat.csv)


def test_a_prediction_that_does_not_hold_together_downloads_as_json() -> None:
    broken = {**REFERENCE_PREDICTION, "predictions": {"columns": ["a", "b"], "data": [[1]]}}
    assert json.loads(artifact_download(broken).body)["predictions"] == {"columns": ["a", "b"], "data": [[1]]}
    with pytest.raises(NotFoundError, match="no csv form"):
        artifact_download(broken, TableFormat.csv)


def test_format_names_are_parsed_and_unknown_ones_refused() -> None:
    assert parse_table_format(None) is None
    assert parse_table_format(" CSV ") is TableFormat.csv and parse_table_format("parquet") is TableFormat.parquet
    for bad in ("xml", "", "pickle"):
        with pytest.raises(BadRequestError, match="csv, json, parquet"):
            parse_table_format(bad)


def test_parquet_without_pyarrow_is_not_acceptable_and_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(NotAcceptableError, match=r"chapkit\[parquet\]") as raised:
        artifact_download(REFERENCE_PREDICTION, TableFormat.parquet)
    assert raised.value.status == 406 and raised.value.extensions == {"missing_extra": "parquet"}
    assert artifact_download(REFERENCE_PREDICTION, TableFormat.csv).extension == "csv"


def test_a_table_pyarrow_refuses_is_not_acceptable() -> None:
    mixed = {**REFERENCE_PREDICTION, "predictions": {"columns": ["x"], "data": [[1], ["text"]]}}
    with pytest.raises(NotAcceptableError, match="cannot be written as Parquet"):
        artifact_download(mixed, TableFormat.parquet)


def test_a_model_that_cannot_be_pickled_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptableError, match="cannot be pickled"):
        artifact_download({**TRAINED, "model": lambda x: x})
