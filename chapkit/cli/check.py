"""`chapkit check URL`: validate, train and predict against a running service; non-zero exit on any failure.

What the check creates in the service (a config, the train and predict jobs, the model and its
predictions) is deleted when it ends, unless `--keep`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from chapkit.cli.client import ApiKey, AsJson, ServiceClient, ServiceError, console, errors, fail

if TYPE_CHECKING:
    from chapkit.cli.sample_data import CheckData

TERMINAL = {"completed", "failed", "canceled"}
NO_DATA = "none (the service was not reached)"


@dataclass
class Step:
    """One line of the summary."""

    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


@dataclass
class Created:
    """What a check created in the service, in the order it was created."""

    config: str | None = None
    jobs: list[str] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """The resources to delete, newest first: predictions before their model, jobs, then the config."""
        paths = [f"/api/v1/artifacts/{artifact}" for artifact in reversed(self.artifacts)]
        paths += [f"/api/v1/jobs/{job}" for job in reversed(self.jobs)]
        return paths + ([f"/api/v1/configs/{self.config}"] if self.config else [])


@dataclass
class Report:
    """What `check` did, step by step, and what it created."""

    steps: list[Step] = field(default_factory=list)
    created: Created = field(default_factory=Created)

    @property
    def ok(self) -> bool:
        """Whether every step passed."""
        return bool(self.steps) and all(step.ok for step in self.steps)

    def add(self, name: str, ok: bool, detail: str, started: float) -> bool:
        """Record a step and return whether it passed."""
        self.steps.append(Step(name, ok, detail, round(time.monotonic() - started, 2)))
        return ok


def choose_data(client: ServiceClient, data: Path | None) -> tuple[CheckData, dict[str, Any] | None]:
    """The data to check with: the CSV, else generated from `/api/v1/info`, else the bundled samples.

    `ServiceError` when the service cannot be reached; a service without an info route is checked with
    the bundled samples. `ValueError` naming the file when the CSV cannot be used.
    """
    from chapkit.cli.sample_data import bundled, from_csv, generate  # pandas loads only when a check runs

    try:
        info = client.get("/api/v1/info")
    except ServiceError as exc:
        if exc.status is None:
            raise
        info = None
    if data is not None:
        return from_csv(data), info
    covariates = info.get("required_covariates") if isinstance(info, dict) else None
    if isinstance(info, dict) and covariates:
        # The info says `weekly`/`monthly`/`any` (older services `week`/`month`); `any` is checked with months.
        period_type = "week" if info.get("period_type") in ("week", "weekly") else "month"
        lowest = max(1, int(info.get("min_prediction_periods") or 1))
        horizon = max(lowest, min(3, int(info.get("max_prediction_periods") or 3)))
        return generate(list(covariates), period_type, horizon=horizon), info
    return bundled(), info


def wait(client: ServiceClient, job_id: str, label: str, timeout: float) -> dict[str, Any]:
    """Poll a job until it ends, showing a spinner with its status; return its last record."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    deadline = time.monotonic() + timeout
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        task = progress.add_task(f"{label}: pending", total=None)
        while True:
            record: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}")
            progress.update(task, description=f"{label}: {record.get('status')}")
            if record.get("status") in TERMINAL:
                return record
            if time.monotonic() > deadline:
                return {**record, "status": "timed out", "error": f"still {record.get('status')} after {timeout}s"}
            time.sleep(0.2)


def _job_detail(record: dict[str, Any]) -> str:
    error = record.get("error")
    return f"{record.get('status')}: {error}" if error else str(record.get("status"))


def _submitted(report: Report, answer: dict[str, Any]) -> None:
    """Remember the job and the artifact a `$train` or `$predict` answer names, to delete them later."""
    report.created.jobs.append(answer["job_id"])
    if answer.get("artifact_id"):
        report.created.artifacts.append(answer["artifact_id"])


def run_check(client: ServiceClient, data: CheckData, config: dict[str, Any], timeout: float) -> Report:
    """Create a config, validate, train, predict and read the predictions back; stop at the first failure."""
    from chapkit.domain.forecasts import sample_columns
    from chapkit.domain.ml_artifacts import prediction_frame

    report = Report()
    started = time.monotonic()
    try:
        created = client.post("/api/v1/configs", {"name": "chapkit-check", "data": config})
    except ServiceError as exc:
        report.add("config", False, str(exc), started)
        return report
    report.created.config = created["id"]
    report.add("config", True, f"created {created['id']}", started)
    train_body = {"config_id": created["id"], "data": data.train}

    started = time.monotonic()
    try:
        verdict = client.post("/api/v1/ml/$validate", {"type": "train", **train_body})
        problems = [item["message"] for item in verdict.get("diagnostics", []) if item.get("severity") == "error"]
        detail = "valid" if verdict.get("valid") else "; ".join(problems)[:300]
        valid = report.add("$validate", bool(verdict.get("valid")), detail, started)
    except ServiceError as exc:
        valid = report.add("$validate", False, str(exc), started)
    if not valid:  # a train on data the service calls invalid would only fail again, later
        return report

    started = time.monotonic()
    try:
        train = client.post("/api/v1/ml/$train", train_body)
        _submitted(report, train)
        record = wait(client, train["job_id"], "train", timeout)
    except ServiceError as exc:
        report.add("$train", False, str(exc), started)
        return report
    if not report.add("$train", record.get("status") == "completed", _job_detail(record), started):
        return report

    started = time.monotonic()
    # Predict as CHAP does (the newer contract, D24): the forecast must carry locations, periods and samples.
    body = {"artifact_id": train["artifact_id"], "historic": data.historic, "future": data.future, "run_info": {}}
    try:
        predict = client.post("/api/v1/ml/$predict", body)
        _submitted(report, predict)
        record = wait(client, predict["job_id"], "predict", timeout)
        if not report.add("$predict", record.get("status") == "completed", _job_detail(record), started):
            return report
        started = time.monotonic()
        artifact = client.get(f"/api/v1/artifacts/{predict['artifact_id']}")
    except ServiceError as exc:
        report.add("$predict", False, str(exc), started)
        return report
    predictions = prediction_frame(artifact.get("data"))
    rows = len(predictions.data) if predictions is not None else 0
    samples = len(sample_columns(predictions.columns)) if predictions is not None else 0
    expected = len(data.future["data"])
    detail = f"{rows} rows (expected {expected}), {samples} sample(s) each"
    report.add("predictions", rows == expected and samples > 0, detail, started)
    return report


def clean_up(client: ServiceClient, report: Report) -> None:
    """Delete what the check created (a resource already gone counts as deleted) and add the step."""
    started = time.monotonic()
    paths = report.created.paths
    left: list[str] = []
    for path in paths:
        try:
            client.delete(path)
        except ServiceError as exc:
            if exc.status != 404:  # 404: deleted with its config or its model already
                left.append(f"{path} ({exc})")
    if left:
        report.add("cleanup", False, "could not delete " + "; ".join(left), started)
    else:
        report.add("cleanup", True, f"deleted {_count(report.created)}", started)


def _count(created: Created) -> str:
    parts = [("config", 1 if created.config else 0), ("job", len(created.jobs)), ("artifact", len(created.artifacts))]
    return ", ".join(f"{count} {name}{'s' if count != 1 else ''}" for name, count in parts if count) or "nothing"


def check(
    url: Annotated[str, typer.Argument(help="Base URL of the running service, e.g. http://127.0.0.1:8000.")],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            exists=True,
            dir_okay=False,
            help="CSV with time_period, location, covariates and disease_cases (empty target = rows to predict).",
        ),
    ] = None,
    config: Annotated[str, typer.Option("--config", help="The config data to train with, as JSON.")] = "{}",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for each job.")] = 300.0,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep", help="Keep the config, jobs, model and predictions the check created (default: delete them)."
        ),
    ] = False,
    api_key: ApiKey = None,
    as_json: AsJson = False,
) -> None:
    """Run $validate, a train and a predict against a running service and print a summary; exit 1 on any failure.

    It stops at the first failing step, and deletes the config, jobs and artifacts it created unless --keep.
    Without --data it trains on data generated from the service's /api/v1/info (its covariates and
    period type), or on the bundled samples when the service declares no covariates.
    """
    client = ServiceClient(url, api_key)
    try:
        config_data = json.loads(config)
    except ValueError as exc:
        raise fail(f"--config is not JSON: {exc}", 2) from exc
    info: dict[str, Any] | None = None
    try:
        chosen, info = choose_data(client, data)
    except ValueError as exc:
        raise fail(str(exc), 2) from exc
    except ServiceError as exc:  # not reached: nothing to check, nothing created
        report, source = Report(), NO_DATA
        report.add("service", False, str(exc), time.monotonic())
    else:
        source = chosen.source
        report = run_check(client, chosen, config_data, timeout)
        if not keep:
            clean_up(client, report)
    if as_json:
        steps = [step.__dict__ for step in report.steps]
        typer.echo(json.dumps({"ok": report.ok, "data": source, "steps": steps}, indent=2))
    else:
        _print_table(url, info, source, report)
    if not report.ok:
        raise typer.Exit(1)


def _print_table(url: str, info: dict[str, Any] | None, source: str, report: Report) -> None:
    from rich.table import Table
    from rich.text import Text

    name = info.get("display_name") if isinstance(info, dict) else None
    table = Table(title=f"chapkit check {url}" + (f" ({name})" if name else ""), caption=f"data: {source}")
    for column in ("step", "result", "detail", "seconds"):
        table.add_column(column)
    for step in report.steps:
        result = Text("ok", style="green") if step.ok else Text("FAILED", style="red")
        table.add_row(step.name, result, step.detail, f"{step.seconds:.2f}")
    console.print(table)


__all__ = ["Created", "Report", "Step", "check", "choose_data", "clean_up", "run_check"]
