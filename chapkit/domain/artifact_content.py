"""An artifact's content: what `?content=false` leaves out, and what `$download` sends (D24).

**Content** is the heavy part of artifact data: the `content` member of any data object (the newer
contract's predictions, workspaces and files), and in the reference's ML shapes the `model` of a
trained model (`ml_type == "trained_model"`) and the `predictions` of a prediction
(`ml_type == "prediction"`). Everything else (ids, timestamps, `metadata`, `content_type`, ...) is
kept. Data that is not an object has no member to leave out and is kept whole.

**Downloads**, by what the artifact holds (body; media type; file name extension):

- a prediction (either shape), a data frame as `content` or as the data: the table as CSV, JSON
  records or Parquet (`format`); `text/csv`, `application/json` or `application/vnd.apache.parquet`;
  `csv`, `json` or `parquet`;
- a trained model (reference shape): `pickle.dumps(model)`; `application/x-pickle`; `pkl`;
- `content` bytes (a workspace zip, an image...): the bytes; the data's `content_type` (else
  `application/octet-stream`); from the media type (`zip`, `png`...), else `bin`;
- bytes as the data: the bytes; `application/octet-stream`; `bin`;
- anything else (other `content`, other data): JSON, with NaN as null and non-JSON values described
  as in every response; `application/json`; `json`.

A table's default format follows its `content_type` (`text/csv` is CSV, the chapkit data-frame
type is JSON records, as the newer contract sends them); a reference-shape prediction or a bare data
frame is CSV. `format` names a table format: anything else has no such form, a 404 problem (the
artifact is there, the file asked for is not); `parquet` needs pyarrow (the `parquet` extra), and
without it is a 406 problem that names the extra.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic_core import to_json

from chapkit.domain.dataframes import PandasDataFrame, is_dataframe
from chapkit.domain.errors import BadRequestError, NotAcceptableError, NotFoundError
from chapkit.domain.json_safe import to_json_safe
from chapkit.domain.ml_artifacts import (
    DATAFRAME_CONTENT_TYPE,
    PREDICTION,
    TRAINED_MODEL,
    artifact_kind,
    is_prediction,
    prediction_frame,
)

CONTENT = "content"
"""The member of artifact data that holds its content in the newer contract's shapes."""
CONTENT_TYPE = "content_type"
"""The member of artifact data that names its content's media type."""

_REFERENCE_CONTENT = {TRAINED_MODEL: "model", PREDICTION: "predictions"}
"""The content member of each of the reference's ML shapes, by `ml_type`."""

CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
PICKLE_MEDIA_TYPE = "application/x-pickle"
OCTET_STREAM = "application/octet-stream"

_EXTENSIONS = {
    "application/zip": "zip",
    CSV_MEDIA_TYPE: "csv",
    JSON_MEDIA_TYPE: "json",
    DATAFRAME_CONTENT_TYPE: "json",
    PARQUET_MEDIA_TYPE: "parquet",
    PICKLE_MEDIA_TYPE: "pkl",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/svg+xml": "svg",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/html": "html",
}
# A stored `content_type` goes into a response header: anything but a plain media type is ignored.
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;\s*[\w.+-]+=(\"[^\"\r\n]*\"|[\w.+-]+))*$")


class TableFormat(StrEnum):
    """Formats a table (predictions, a data frame) downloads in."""

    csv = "csv"
    json = "json"
    parquet = "parquet"


@dataclass(frozen=True, slots=True)
class ArtifactDownload:
    """A file made of an artifact's content: its bytes, media type and file name extension."""

    body: bytes
    media_type: str
    extension: str


def without_content(data: Any) -> Any:
    """A shallow copy of artifact data without its content members (data that is no object as it is)."""
    if not isinstance(data, dict):
        return data
    left_out = {CONTENT}
    kind = data.get("ml_type")
    if isinstance(kind, str) and kind in _REFERENCE_CONTENT:
        left_out.add(_REFERENCE_CONTENT[kind])
    if not left_out & data.keys():
        return data
    return {key: value for key, value in data.items() if key not in left_out}


def artifact_metadata(data: Any) -> dict[str, Any]:
    """The `metadata` object of artifact data, as JSON-safe values; `{}` when there is none."""
    metadata = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(metadata, dict):
        return {}
    safe: dict[str, Any] = to_json_safe(metadata)
    return safe


def parse_table_format(value: str | None) -> TableFormat | None:
    """The table format a `format` parameter names (`None` when not given); anything else is a 400 problem."""
    if value is None:
        return None
    try:
        return TableFormat(value.strip().lower())
    except ValueError:
        allowed = ", ".join(item.value for item in TableFormat)
        raise BadRequestError(f"Unknown download format {value!r}: use one of {allowed}") from None


def artifact_download(data: Any, table_format: TableFormat | None = None) -> ArtifactDownload:
    """The file `$download` sends for artifact data (see the module docs for the rules).

    Raises `NotFoundError` when the artifact holds nothing or `table_format` is given for content that
    is no table (it has no such form), and `NotAcceptableError` when the content cannot be given in
    the asked format (Parquet without pyarrow, a model that cannot be pickled).
    """
    if data is None:
        raise NotFoundError("Artifact has no content")
    table, default_format = _table_of(data)
    if table is not None:
        return _table_download(table, table_format or default_format)
    if table_format is not None:
        raise NotFoundError(
            f"This artifact has no {table_format.value} form: format applies to tables only (predictions, "
            "data frames); download it without one"
        )
    if isinstance(data, bytes | bytearray | memoryview):
        return ArtifactDownload(bytes(data), OCTET_STREAM, "bin")
    if artifact_kind(data) == TRAINED_MODEL and "model" in data:
        return _pickled(data["model"])
    if isinstance(data, dict) and CONTENT in data:
        content = data[CONTENT]
        if content is None:
            raise NotFoundError("Artifact has no content")
        if isinstance(content, bytes | bytearray | memoryview):
            media_type = _media_type(data.get(CONTENT_TYPE)) or OCTET_STREAM
            return ArtifactDownload(bytes(content), media_type, _extension(media_type))
        return _json_download(content)
    return _json_download(data)


def _table_of(data: Any) -> tuple[PandasDataFrame | None, TableFormat]:
    """The table an artifact holds, if any, and the format it downloads in by default.

    A table that does not hold together (rows of another width than the columns, repeated column
    names: data posted by hand) is no table; the artifact then downloads as JSON.
    """
    try:
        return _table_or_none(data)
    except ValueError:  # pydantic's ValidationError is one
        return None, TableFormat.csv


def _table_or_none(data: Any) -> tuple[PandasDataFrame | None, TableFormat]:
    if is_dataframe(data):
        return PandasDataFrame.from_dataframe(data), TableFormat.csv
    if is_prediction(data):
        frame = prediction_frame(data)
        if frame is not None:
            return frame, _default_format(data.get(CONTENT_TYPE), TableFormat.csv)
    if isinstance(data, dict) and CONTENT in data:
        content, content_type = data[CONTENT], data.get(CONTENT_TYPE)
        if is_dataframe(content):
            return PandasDataFrame.from_dataframe(content), _default_format(content_type, TableFormat.json)
        if isinstance(content, PandasDataFrame):
            return content, _default_format(content_type, TableFormat.json)
        if content_type in (DATAFRAME_CONTENT_TYPE, CSV_MEDIA_TYPE) and _looks_like_frame(content):
            frame = PandasDataFrame(columns=content["columns"], data=content["data"])
            return frame, _default_format(content_type, TableFormat.json)
    return None, TableFormat.csv


def _looks_like_frame(value: Any) -> bool:
    """Whether a value is a data frame as JSON: `{"columns": [...], "data": [[...], ...]}`."""
    if not isinstance(value, dict):
        return False
    columns, rows = value.get("columns"), value.get("data")
    if not isinstance(columns, list) or not isinstance(rows, list):
        return False
    width = len(columns)
    return all(isinstance(name, str) for name in columns) and all(
        isinstance(row, list) and len(row) == width for row in rows
    )


def _default_format(content_type: Any, otherwise: TableFormat) -> TableFormat:
    if content_type == CSV_MEDIA_TYPE:
        return TableFormat.csv
    if content_type == DATAFRAME_CONTENT_TYPE:
        return TableFormat.json
    return otherwise


def _table_download(table: PandasDataFrame, table_format: TableFormat) -> ArtifactDownload:
    if table_format is TableFormat.json:
        records = [dict(zip(table.columns, row, strict=True)) for row in table.data]
        return _json_download(records)
    frame = table.to_dataframe()
    if table_format is TableFormat.csv:
        return ArtifactDownload(frame.to_csv(index=False).encode(), f"{CSV_MEDIA_TYPE}; charset=utf-8", "csv")
    if importlib.util.find_spec("pyarrow") is None:
        raise NotAcceptableError(
            "Parquet downloads need pyarrow, which this service does not have: install chapkit with the "
            "'parquet' extra (pip install 'chapkit[parquet]'), or ask for format=csv or format=json",
            missing_extra="parquet",
        )
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
    except Exception as error:  # pyarrow refuses some columns (e.g. numbers mixed with text)
        raise NotAcceptableError(
            f"This table cannot be written as Parquet ({type(error).__name__}: {error}); ask for format=csv or json"
        ) from None
    return ArtifactDownload(buffer.getvalue(), PARQUET_MEDIA_TYPE, "parquet")


def _pickled(model: Any) -> ArtifactDownload:
    try:
        body = pickle.dumps(model)
    except Exception as error:  # whatever a model's own __reduce__ raises
        raise NotAcceptableError(
            f"The trained model cannot be pickled ({type(error).__name__}: {error}); "
            "read it through the artifact API instead"
        ) from None
    return ArtifactDownload(body, PICKLE_MEDIA_TYPE, "pkl")


def _json_download(value: Any) -> ArtifactDownload:
    # Rendered as every JSON response renders artifact data: NaN and infinities as null, values JSON
    # cannot carry described (`json_safe`).
    return ArtifactDownload(to_json(to_json_safe(value), inf_nan_mode="null"), JSON_MEDIA_TYPE, "json")


def _media_type(value: Any) -> str | None:
    """A stored `content_type` when it is a plain media type, else `None`."""
    return value.strip() if isinstance(value, str) and _MEDIA_TYPE.match(value.strip()) else None


def _extension(media_type: str) -> str:
    return _EXTENSIONS.get(media_type.split(";", 1)[0].strip().lower(), "bin")


__all__ = [
    "CONTENT",
    "CONTENT_TYPE",
    "ArtifactDownload",
    "TableFormat",
    "artifact_download",
    "artifact_metadata",
    "parse_table_format",
    "without_content",
]
