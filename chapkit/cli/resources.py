"""`chapkit configs|artifacts|jobs`: list, show, download and watch against a running service."""

from __future__ import annotations

import io
import json
import pickle
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeGuard

import typer
from rich.table import Table
from rich.text import Text

from chapkit.cli.client import (
    DEFAULT_URL,
    ApiKey,
    AsJson,
    ServiceClient,
    ServiceError,
    Url,
    cell,
    console,
    fail,
    items,
    print_json,
    print_record,
    print_table,
)
from chapkit.cli.groups import Group

if TYPE_CHECKING:
    import pandas as pd

configs = typer.Typer(cls=Group, help="Configs of a running service.", no_args_is_help=True)
artifacts = typer.Typer(
    cls=Group, help="Artifacts (trained models, predictions) of a running service.", no_args_is_help=True
)
jobs = typer.Typer(cls=Group, help="Jobs of a running service.", no_args_is_help=True)


def _call(url: str, api_key: str | None, path: str) -> Any:
    try:
        return ServiceClient(url, api_key).get(path)
    except ServiceError as exc:
        raise fail(str(exc)) from exc


def _list(url: str, api_key: str | None, as_json: bool, path: str, title: str, columns: list[str]) -> None:
    rows = items(_call(url, api_key, path))
    if as_json:
        print_json(rows)
    else:
        print_table(title, rows, columns)


def _show(url: str, api_key: str | None, as_json: bool, path: str, title: str) -> None:
    record = _call(url, api_key, path)
    if as_json:
        print_json(record)
    else:
        print_record(title, record)


@configs.command("list")
def configs_list(url: Url = DEFAULT_URL, api_key: ApiKey = None, as_json: AsJson = False) -> None:
    """List the configs."""
    _list(url, api_key, as_json, "/api/v1/configs", "Configs", ["id", "name", "data", "created_at"])


@configs.command("show")
def configs_show(
    config_id: Annotated[str, typer.Argument(metavar="ID")],
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Show one config."""
    _show(url, api_key, as_json, f"/api/v1/configs/{config_id}", f"Config {config_id}")


def _artifact_type(row: dict[str, Any]) -> str:
    data = row.get("data")
    return str(data.get("ml_type", "")) if isinstance(data, dict) else ""


@artifacts.command("list")
def artifacts_list(url: Url = DEFAULT_URL, api_key: ApiKey = None, as_json: AsJson = False) -> None:
    """List the artifacts."""
    rows = items(_call(url, api_key, "/api/v1/artifacts"))
    if as_json:
        print_json(rows)
        return
    shown = [{**row, "type": _artifact_type(row)} for row in rows]
    print_table("Artifacts", shown, ["id", "type", "level", "parent_id", "created_at"])


HEAD_ROWS = 5
"""How many rows of each frame `artifacts show` prints."""


def _is_frame(value: Any) -> TypeGuard[dict[str, Any]]:
    """Whether `value` is a frame as JSON carries it: `{"columns": [...], "data": [[...], ...]}`."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("columns"), list)
        and isinstance(value.get("data"), list)
        and all(isinstance(row, list) for row in value["data"])
    )


def _shape(frame: dict[str, Any]) -> str:
    rows, columns = len(frame["data"]), len(frame["columns"])
    return f"{rows} row{'s' if rows != 1 else ''} x {columns} column{'s' if columns != 1 else ''}"


def _head_value(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else cell(value)


def _print_frame_head(name: str, frame: dict[str, Any]) -> None:
    """Print the first rows of a frame, with as many of its columns as fit, and its shape."""
    head = [[_head_value(value) for value in row] for row in frame["data"][:HEAD_ROWS]]
    columns = [str(column) for column in frame["columns"]]
    widths = [
        max(len(column), *(len(row[index]) for row in head if index < len(row))) for index, column in enumerate(columns)
    ]
    shown, used = 0, 1
    for width in widths:  # each column takes its width, a border and a space each side
        if shown >= 2 and used + width + 3 > console.width:
            break
        shown, used = shown + 1, used + width + 3
    table = Table(title=f"{name}: {_shape(frame)}", title_justify="left")
    for column in columns[:shown]:
        table.add_column(column, no_wrap=True, overflow="fold")
    for row in head:
        table.add_row(*row[:shown])
    hidden = len(frame["data"]) - len(head), len(columns) - shown
    notes = [
        f"{count} {what}{'s' if count != 1 else ''}"
        for count, what in zip(hidden, ("row", "column"), strict=True)
        if count
    ]
    if notes:
        table.caption = f"{' and '.join(notes)} more (--json for all)"
        table.caption_justify = "left"
    console.print(table)


def print_artifact(record: dict[str, Any]) -> None:
    """Print an artifact compactly: its fields and data keys one line each, each frame as a table of its head."""
    data = record.get("data")
    fields = {key: value for key, value in record.items() if key != "data"}
    frames: dict[str, dict[str, Any]] = {}
    if _is_frame(data):
        frames["data"] = data
        fields["data"] = f"a frame, {_shape(data)} (below)"
    elif isinstance(data, dict):
        for key, value in data.items():
            if _is_frame(value):
                frames[key] = value
                fields[key] = f"a frame, {_shape(value)} (below)"
            else:
                fields[key] = value
    else:
        fields["data"] = data
    table = Table(title=f"Artifact {record.get('id')}", show_header=False, title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for key, value in fields.items():
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else cell(value)
        table.add_row(key, shown if len(shown) <= 300 else shown[:297] + "...")
    console.print(table)
    for name, frame in frames.items():
        _print_frame_head(name, frame)


@artifacts.command("show")
def artifacts_show(
    artifact_id: Annotated[str, typer.Argument(metavar="ID")],
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Show one artifact: its fields and data, each frame (predictions) as its first rows and its shape."""
    record = _call(url, api_key, f"/api/v1/artifacts/{artifact_id}")
    if as_json:
        print_json(record)
    else:
        print_artifact(record)


class DownloadFormat(StrEnum):
    """What `artifacts download` writes."""

    csv = "csv"
    parquet = "parquet"
    pickle = "pickle"


def artifact_frame(data: Any) -> pd.DataFrame | None:
    """The data frame an artifact carries (predictions, or a frame as data), if any."""
    import pandas as pd  # loaded only by the commands that read frames

    from chapkit.domain.ml_artifacts import prediction_frame

    if not isinstance(data, dict):
        return None
    predictions = prediction_frame(data)
    if predictions is not None:
        return predictions.to_dataframe()
    for candidate in (data.get("content"), data):
        if isinstance(candidate, dict) and isinstance(candidate.get("columns"), list) and "data" in candidate:
            return pd.DataFrame(candidate["data"], columns=candidate["columns"])
    return None


def artifact_bytes(data: Any, fmt: DownloadFormat) -> bytes:
    """Encode an artifact's data: a frame as CSV or Parquet, the model (or whole data) as a pickle."""
    if fmt is DownloadFormat.pickle:
        model = data.get("model", data) if isinstance(data, dict) else data
        return pickle.dumps(model)
    frame = artifact_frame(data)
    if frame is None:
        raise ValueError("this artifact holds no data frame: download it with --format pickle")
    if fmt is DownloadFormat.csv:
        return frame.to_csv(index=False).encode()
    buffer = io.BytesIO()
    try:
        frame.to_parquet(buffer, index=False)
    except ImportError as exc:
        raise ValueError("Parquet needs pyarrow: pip install 'chapkit[parquet]'") from exc
    return buffer.getvalue()


@artifacts.command("download")
def artifacts_download(
    artifact_id: Annotated[str, typer.Argument(metavar="ID")],
    fmt: Annotated[
        DownloadFormat | None,
        typer.Option("--format", help="csv or parquet for frames (default csv), pickle for models (the default)."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default ID.FORMAT).")] = None,
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
) -> None:
    """Download an artifact: prediction frames as CSV or Parquet, trained models as a pickle."""
    artifact = _call(url, api_key, f"/api/v1/artifacts/{artifact_id}")
    data = artifact.get("data")
    if fmt is None:
        fmt = DownloadFormat.csv if artifact_frame(data) is not None else DownloadFormat.pickle
    try:
        content = artifact_bytes(data, fmt)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    target = output or Path(f"{artifact_id}.{'pkl' if fmt is DownloadFormat.pickle else fmt.value}")
    target.write_bytes(content)
    console.print(f"Wrote {target} ({len(content)} bytes, {fmt.value})")


@jobs.command("list")
def jobs_list(url: Url = DEFAULT_URL, api_key: ApiKey = None, as_json: AsJson = False) -> None:
    """List the jobs."""
    columns = ["id", "status", "submitted_at", "finished_at", "artifact_id", "error"]
    _list(url, api_key, as_json, "/api/v1/jobs", "Jobs", columns)


@jobs.command("show")
def jobs_show(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Show one job."""
    _show(url, api_key, as_json, f"/api/v1/jobs/{job_id}", f"Job {job_id}")


@jobs.command("watch")
def jobs_watch(
    job_id: Annotated[str, typer.Argument(metavar="ID")],
    url: Url = DEFAULT_URL,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Follow a job's status updates ($stream) until it ends; exit 1 unless it completed."""
    last: dict[str, Any] = {}
    printed: str | None = None
    try:
        for event in ServiceClient(url, api_key).events(f"/api/v1/jobs/{job_id}/$stream"):
            last = event if isinstance(event, dict) else {"status": str(event)}
            # The stream repeats the record every poll: only a change is printed.
            line = json.dumps(last, default=str) if as_json else f"{last.get('status')}  {last.get('error') or ''}"
            if line == printed:
                continue
            printed = line
            if as_json:
                typer.echo(line)
            else:
                error = f"  {last['error']}" if last.get("error") else ""
                console.print(Text.assemble(f"{job_id}  ", (str(last.get("status")), "bold"), error), highlight=False)
    except ServiceError as exc:
        raise fail(str(exc)) from exc
    if last.get("status") != "completed":
        raise typer.Exit(1)


__all__ = ["DownloadFormat", "artifact_bytes", "artifact_frame", "artifacts", "configs", "jobs", "print_artifact"]
