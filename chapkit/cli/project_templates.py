"""The files `chapkit init` writes: one service module per template, plus the files every project shares.

Placeholders: `__NAME__` (the project name), `__PKG__` (its Python package), `__SLUG__` (its service id),
`__TEMPLATE__`, `__SUMMARY__`
(what the template's model does). The model code itself is in `project_models`.
"""

from __future__ import annotations

TEMPLATES = ("fn-py", "shell-py", "shell-r", "shell-r-tidyverse")

MEAN_SUMMARY = "Forecasts disease_cases per location from its recent mean and spread, with 100 samples"
LINEAR_R_SUMMARY = "Forecasts disease_cases from rainfall and mean_temperature (linear model in R), with 100 samples"
ARIMA_R_SUMMARY = "Forecasts disease_cases per location (ARIMA on rainfall and mean_temperature in R), with 100 samples"

CONFIG = '''"""The config schema: what a config of this model holds (validated on POST /api/v1/configs)."""

from chapkit import BaseConfig


class ModelConfig(BaseConfig):
    """The model's settings."""

    window: int = 12  # the periods the model looks back over
'''

SERVICE = '''"""__NAME__: a chapkit model service (template __TEMPLATE__).

Serve it with `chapkit serve __PKG__.service:create_app --factory` (DATABASE_URL picks the database).
"""

from __future__ import annotations

import os
__STDLIB_IMPORTS__
from chapkit import __CHAPKIT_NAMES__
from fastapi import FastAPI

from __PKG__.config import ModelConfig
__LOCAL_IMPORTS__
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///__PKG__.db"

INFO = MLServiceInfo(
    id="__SLUG__",  # the key CHAP registers the model under: lowercase letters and digits joined by "-"
    display_name="__NAME__",
    version="0.1.0",
    summary="__SUMMARY__",
    description=(
        "Predictions carry disease_cases (the model's mean) and sample_0 ... sample_99: 100 draws from the "
        "fitted model's error distribution, seeded from the config and the future rows."
    ),
    # Who made the model, as CHAP's model catalogue shows it: add author, contact_email, organization,
    # citation_info; "red" is an experimental prototype, raise it as the model is validated (up to "green").
    author_assessed_status="red",
    period_type="any",  # the model reads weekly and monthly data alike
    min_prediction_periods=1,
    max_prediction_periods=12,
    required_covariates=["rainfall", "mean_temperature"],
    requires_geo=False,
)

HIERARCHY = ArtifactHierarchy(name="__PKG__", level_labels={0: "trained_model", 1: "prediction"})

__RUNNER__


def create_app(database_url: str | None = None) -> FastAPI:
    """Build the service (database: the argument, else DATABASE_URL, else a file here)."""
    return MLServiceBuilder(
        info=INFO,
        config_schema=ModelConfig,
        hierarchy=HIERARCHY,
        runner=runner(),
        database_url=database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
    ).build()
'''

FN_IMPORTS = (
    "",
    "ArtifactHierarchy, FunctionalModelRunner, MLServiceBuilder, MLServiceInfo",
    "from __PKG__.model import on_predict, on_train\n",
)
"""The fn-py service's imports: standard library, names from chapkit, the project's own modules."""

FN_RUNNER = '''
def runner() -> FunctionalModelRunner:
    """The train and predict functions of `__PKG__.model`."""
    return FunctionalModelRunner(on_train=on_train, on_predict=on_predict)
'''

SHELL_PY_IMPORTS = (
    "import shlex\nimport sys\nfrom pathlib import Path\n",
    "ArtifactHierarchy, MLServiceBuilder, MLServiceInfo, ShellModelRunner",
    "",
)
"""The shell-py service's imports: standard library, names from chapkit, the project's own modules."""

SHELL_PY_RUNNER = '''SCRIPTS = Path(__file__).resolve().parent / "scripts"


def runner() -> ShellModelRunner:
    """Run scripts/train.py and scripts/predict.py with this Python, on files chapkit writes."""
    python = shlex.quote(sys.executable)
    train = shlex.quote(str(SCRIPTS / "train.py"))
    predict = shlex.quote(str(SCRIPTS / "predict.py"))
    return ShellModelRunner(
        train_command=f"{python} {train} {{config_file}} {{data_file}} {{model_file}}",
        predict_command=f"{python} {predict} {{config_file}} {{model_file}} {{future_file}} {{output_file}}",
        model_format="pickle",
        timeout=600,
    )
'''

SHELL_R_IMPORTS = (
    "import shlex\nfrom pathlib import Path\n",
    "ArtifactHierarchy, MLServiceBuilder, MLServiceInfo, ShellModelRunner",
    "",
)
"""The shell-r service's imports: standard library, names from chapkit, the project's own modules."""

_R_RUNNER = '''SCRIPTS = Path(__file__).resolve().parent / "scripts"


def runner() -> ShellModelRunner:
    """Run scripts/train.R and scripts/predict.R__R_PACKAGES__ with Rscript__R_ON__."""
    train = shlex.quote(str(SCRIPTS / "train.R"))
    predict = shlex.quote(str(SCRIPTS / "predict.R"))
    return ShellModelRunner(
        train_command=f"Rscript {train} {{config_file}} {{data_file}} {{model_file}}",
__R_PREDICT__
        model_format="rds",  # the model file is kept as bytes: saveRDS / readRDS
        timeout=600,
    )
'''
"""The runner of the R templates; they differ in what the scripts use and what predict is given."""

SHELL_R_RUNNER = (
    _R_RUNNER.replace("__R_PACKAGES__", "")
    .replace("__R_ON__", ", on files chapkit writes")
    .replace(
        "__R_PREDICT__",
        '        predict_command=f"Rscript {predict} {{config_file}} {{model_file}} {{future_file}} {{output_file}}",',
    )
)

SHELL_R_TIDYVERSE_RUNNER = (
    _R_RUNNER.replace("__R_PACKAGES__", " (dplyr, readr, tidyr, forecast)")
    .replace("__R_ON__", "")
    .replace(
        "__R_PREDICT__",
        "        predict_command=(\n"
        '            f"Rscript {predict} {{config_file}} {{model_file}} '
        '{{historic_file}} {{future_file}} {{output_file}}"\n'
        "        ),",
    )
)

TEST = '''"""The service trains and predicts end to end, over HTTP, as CHAP does, with chapkit's pytest plugin."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from chapkit import prediction_frame
from chapkit.testing import wait_for_job

from __PKG__.service import create_app

NEEDS = "__NEEDS__"
pytestmark = pytest.mark.skipif(bool(NEEDS) and shutil.which(NEEDS) is None, reason=f"needs {NEEDS}")
SAMPLES = [f"sample_{index}" for index in range(100)]


def _data(months: range, with_target: bool) -> dict[str, Any]:
    rows = []
    for location, offset in (("north", 0.0), ("south", 12.0)):
        for index in months:
            period = f"{2022 + index // 12}-{index % 12 + 1:02d}"
            rain = round(80 + 60 * math.sin(index / 2) + offset, 1)
            heat = round(22 + 4 * math.cos(index / 3), 1)
            row: list[Any] = [period, location, rain, heat]
            rows.append([*row, round(0.4 * rain + heat, 1)] if with_target else row)
    columns = ["time_period", "location", "rainfall", "mean_temperature"]
    return {"columns": [*columns, "disease_cases"] if with_target else columns, "data": rows}


async def _forecast(client: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Predict and read the stored forecast back, one dict per row."""
    predict = await client.post("/api/v1/ml/$predict", json=body)
    assert predict.status_code == 202, predict.text
    job = await wait_for_job(client, predict.json()["job_id"])
    assert job["status"] == "completed", job
    artifact = (await client.get(f"/api/v1/artifacts/{predict.json()['artifact_id']}")).json()
    frame = prediction_frame(artifact["data"])
    assert frame is not None, artifact
    return [dict(zip(frame.columns, row, strict=True)) for row in frame.data]


async def test_train_then_forecast_samples(chapkit_client: Any, tmp_path: Path) -> None:
    client = await chapkit_client(create_app(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"))
    assert (await client.get("/health")).json()["status"] == "healthy"
    config = (await client.post("/api/v1/configs", json={"name": "default", "data": {"window": 6}})).json()
    run_info = {"prediction_periods": 3}
    body = {"config_id": config["id"], "data": _data(range(24), True), "run_info": run_info}
    train = await client.post("/api/v1/ml/$train", json=body)
    assert train.status_code == 202, train.text
    job = await wait_for_job(client, train.json()["job_id"])
    assert job["status"] == "completed", job

    body = {
        "artifact_id": train.json()["artifact_id"],
        "historic": _data(range(24), True),
        "future": _data(range(24, 27), False),
        "run_info": run_info,
    }
    forecast = await _forecast(client, body)
    assert list(forecast[0]) == ["time_period", "location", "disease_cases", *SAMPLES]
    assert [(row["time_period"], row["location"]) for row in forecast] == [
        (row[0], row[1]) for row in body["future"]["data"]
    ]
    for row in forecast:
        draws = [row[name] for name in SAMPLES]
        assert all(math.isfinite(value) and value >= 0 for value in draws)
        assert len(set(draws)) > 1  # real draws from the model's error distribution, not copies of one number
    # The draws are seeded from the config and the future rows: the same request gives the same samples.
    assert await _forecast(client, body) == forecast
'''
