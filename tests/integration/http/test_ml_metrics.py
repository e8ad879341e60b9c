"""Metrics a training reports, stored as JSON with the model and read through `GET /api/v1/artifacts/{id}`.

A train function returns `TrainResult(model, metrics=...)` (a `FunctionalModelRunner` function or a
`BaseModelRunner` subclass's `on_train`), or a shell model writes `metrics.json` into its working
directory. A bare model keeps reporting none (`metrics` is null); invalid metrics fail the job and store
nothing.
"""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from chapkit import BaseModelRunner, FunctionalModelRunner, ShellModelRunner, TrainResult
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import (
    SlopeConfig,
    artifact_ids,
    create_config,
    ml_service,
    predict,
    predict_slope,
    train,
    train_slope,
    wait_for_job,
)

PY = shlex.quote(sys.executable)


def train_with_metrics(config: SlopeConfig, data: pd.DataFrame, geo: Any = None) -> TrainResult:
    model = train_slope(config, data, geo)
    residuals = data["y"] - data["x"] * model["slope"]
    # numpy numbers are numbers too: they are stored as plain floats.
    return TrainResult(model, metrics={"rmse": np.sqrt(np.mean(residuals**2)), "rows": len(data)})


class SubclassRunner(BaseModelRunner):
    """A `BaseModelRunner` subclass whose async `on_train` reports metrics."""

    async def on_train(self, config: Any, data: pd.DataFrame, geo: Any = None) -> Any:
        return TrainResult(train_slope(config, data, geo), metrics={"mae": 0.25})

    async def on_predict(
        self, config: Any, model: Any, historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
    ) -> pd.DataFrame:
        return predict_slope(config, model, historic, future, geo)


async def trained(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train once: the job's record and the trained model artifact as `GET /api/v1/artifacts/{id}` gives it."""
    submitted = await train(client, await create_config(client, scale=2.0))
    record = await wait_for_job(client, submitted["job_id"])
    response = await client.get(f"/api/v1/artifacts/{submitted['model_artifact_id']}")
    return record, response.json() if response.status_code == 200 else {}


async def test_a_bare_model_reports_no_metrics(storage_url: str) -> None:
    async with serve(ml_service(storage_url).build()) as client:
        record, artifact = await trained(client)
    assert record["status"] == "completed", record
    assert artifact["data"]["metrics"] is None
    assert artifact["data"]["model"] == {"slope": pytest.approx(4.0)}


async def test_a_train_function_reports_metrics_with_its_model(storage_url: str) -> None:
    runner = FunctionalModelRunner(on_train=train_with_metrics, on_predict=predict_slope)
    async with serve(ml_service(storage_url, runner=runner).build()) as client:
        record, artifact = await trained(client)
        assert record["status"] == "completed", record
        data = artifact["data"]
        # The model is stored as a bare model is; the metrics beside it, as JSON numbers.
        assert data["model"] == {"slope": pytest.approx(4.0)}
        assert data["model_type"] == "builtins.dict"
        assert data["metrics"] == {
            "rmse": pytest.approx(math.sqrt(((2 - 4) ** 2 + (4 - 8) ** 2 + (6 - 12) ** 2) / 3)),
            "rows": 3.0,
        }
        # Predicting reads the model alone, as before.
        response = await predict(client, artifact["id"])
        predicted = await wait_for_job(client, response.json()["job_id"])
        assert predicted["status"] == "completed", predicted


async def test_a_base_model_runner_subclass_reports_metrics(storage_url: str) -> None:
    async with serve(ml_service(storage_url, runner=SubclassRunner()).build()) as client:
        record, artifact = await trained(client)
    assert record["status"] == "completed", record
    assert artifact["data"]["metrics"] == {"mae": 0.25}
    assert artifact["data"]["model"] == {"slope": pytest.approx(4.0)}


@pytest.mark.parametrize(
    ("metrics", "expected"),
    [
        ({"rmse": float("nan")}, "metric 'rmse' must be a finite number, got nan"),
        ({"rmse": float("inf")}, "metric 'rmse' must be a finite number, got inf"),
        ({"rmse": "1.2"}, "metric 'rmse' must be a number, got str"),
        ({"ok": True}, "metric 'ok' must be a number, got bool"),
        ({1: 1.0}, "a metric's name must be a non-empty string, got 1"),
        ({"": 1.0}, "a metric's name must be a non-empty string, got ''"),
        ({f"m{index}": 1.0 for index in range(101)}, "101 metrics reported; at most 100 may be"),
        ([("rmse", 1.0)], "metrics must map metric names to numbers, got list"),
    ],
    ids=["nan", "inf", "string", "boolean", "int-name", "empty-name", "too-many", "not-a-mapping"],
)
async def test_invalid_metrics_fail_the_job_and_store_nothing(storage_url: str, metrics: Any, expected: str) -> None:
    def train_badly(config: SlopeConfig, data: pd.DataFrame, geo: Any = None) -> TrainResult:
        return TrainResult(train_slope(config, data, geo), metrics=metrics)

    runner = FunctionalModelRunner(on_train=train_badly, on_predict=predict_slope)
    async with serve(ml_service(storage_url, runner=runner).build()) as client:
        record, artifact = await trained(client)
        assert record["status"] == "failed"
        assert record["error"] == f"ValueError: invalid metrics: {expected}"
        assert artifact == {} and await artifact_ids(client) == []


TRAIN_SCRIPT = """\
import csv, json, pickle, sys
rows = list(csv.DictReader(open(sys.argv[1])))
slope = sum(float(r["y"]) * float(r["x"]) for r in rows) / sum(float(r["x"]) ** 2 for r in rows)
pickle.dump({"slope": slope}, open(sys.argv[2], "wb"))
if len(sys.argv) > 3:  # the metrics to report, from a file the test wrote
    with open("metrics.json", "w") as out:  # into the working directory: the command's cwd
        out.write(open(sys.argv[3]).read())
"""


def shell_runner(tmp_path: Path, metrics_json: str | None) -> ShellModelRunner:
    script = tmp_path / "train.py"
    script.write_text(TRAIN_SCRIPT)
    written = ""
    if metrics_json is not None:
        reported = tmp_path / "reported.json"
        reported.write_text(metrics_json)
        written = f" {shlex.quote(str(reported))}"
    return ShellModelRunner(
        train_command=f"{PY} {script} {{data_file}} {{model_file}}{written}",
        predict_command=f"{PY} -c 'raise SystemExit(1)' {{model_file}} {{future_file}} {{output_file}}",
    )


async def test_a_shell_model_without_metrics_json_reports_none(storage_url: str, tmp_path: Path) -> None:
    async with serve(ml_service(storage_url, runner=shell_runner(tmp_path, None)).build()) as client:
        record, artifact = await trained(client)
    assert record["status"] == "completed", record
    assert artifact["data"]["metrics"] is None and artifact["data"]["model"] == {"slope": pytest.approx(2.0)}


async def test_a_shell_model_reports_the_metrics_json_it_wrote(storage_url: str, tmp_path: Path) -> None:
    runner = shell_runner(tmp_path, '{"rmse": 1.5, "mae": 1, "coverage_90": 0.875}')
    async with serve(ml_service(storage_url, runner=runner).build()) as client:
        record, artifact = await trained(client)
    assert record["status"] == "completed", record
    assert artifact["data"]["metrics"] == {"rmse": 1.5, "mae": 1.0, "coverage_90": 0.875}
    assert artifact["data"]["model"] == {"slope": pytest.approx(2.0)}


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("{not json", "it is not JSON"),
        ('{"rmse": NaN}', "metric 'rmse' must be a finite number, got nan"),
        ('{"rmse": null}', "metric 'rmse' must be a number, got NoneType"),
        ("[1.5]", "metrics must map metric names to numbers, got list"),
    ],
    ids=["not-json", "nan", "null", "array"],
)
async def test_a_shell_model_with_an_invalid_metrics_json_fails(tmp_path: Path, written: str, expected: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'metrics.db'}"
    async with serve(ml_service(url, runner=shell_runner(tmp_path, written)).build()) as client:
        record, artifact = await trained(client)
        assert record["status"] == "failed"
        assert record["error"].startswith("ValueError: invalid metrics.json written by the training script: ")
        assert expected in record["error"]
        assert artifact == {} and await artifact_ids(client) == []
