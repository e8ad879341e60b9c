"""The files `chapkit mlproject migrate` writes around an MLproject: the service module and its test.

`migration_files` gives them by path relative to the model directory (the packaging files, and the
chapkit wheel, come from `project_packaging`, as for `chapkit init`). The service module
builds the service from the MLproject each time it starts (`mlproject_app`), so the MLproject stays
the one description of the model. Placeholders: `__NAME__` (the MLproject's name), `__PKG__` (its
Python name), `__NEEDS__` (the programs the commands start with).
"""

from __future__ import annotations

import re
import shlex

MODULE = "chapkit_service"
"""The service module migrate writes (`chapkit serve chapkit_service:create_app --factory`)."""

SERVICE_FILE = f"{MODULE}.py"
TEST_FILE = "tests/test_chapkit_service.py"

SERVICE = '''"""__NAME__ served by chapkit: the MLproject in this directory as a model service.

Written by `chapkit mlproject migrate`. The service is read from the MLproject each time it starts
(user_options, meta_data, commands, adapters): change the MLproject, not this file, and restart.

    chapkit serve chapkit_service:create_app --factory   # DATABASE_URL picks the database
    chapkit mlproject run .                              # the same service, state in memory
"""

from __future__ import annotations

import os
from pathlib import Path

from chapkit import mlproject_app
from fastapi import FastAPI

MODEL_DIRECTORY = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///__PKG__.db"
# The layout of the config.yml the commands read: "chap_core" (options under user_option_values) or
# "flat"; None takes the MLproject's meta_data.config_format, else "chap_core".
CONFIG_FORMAT: str | None = None


def create_app(database_url: str | None = None) -> FastAPI:
    """Build the service (database: the argument, else DATABASE_URL, else a file here)."""
    return mlproject_app(
        MODEL_DIRECTORY,
        config_format=CONFIG_FORMAT,
        database_url=database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
    )
'''

TEST = '''"""The MLproject here trains and forecasts as a chapkit service (written by `chapkit mlproject migrate`).

The service makes sample data with the columns the MLproject requires (`$generate-sample-data`), trains
with the default options and forecasts; every future location and period must get finite samples.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from chapkit import prediction_frame
from chapkit.testing import wait_for_job

SERVICE = Path(__file__).resolve().parents[1] / "chapkit_service.py"
NEEDS = __NEEDS__  # the programs the MLproject's commands start with
MISSING = [program for program in NEEDS if shutil.which(program) is None]
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} on PATH"),
]


def create_app(database_url: str) -> Any:
    """The service of chapkit_service.py (imported by path: this directory need not be installed)."""
    spec = importlib.util.spec_from_file_location("chapkit_service", SERVICE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.create_app(database_url)


async def finished(client: Any, response: Any) -> dict[str, Any]:
    """The answer of a $train or $predict, once its job completed."""
    assert response.status_code == 202, response.text
    job = await wait_for_job(client, response.json()["job_id"], timeout=600)
    assert job["status"] == "completed", job
    return dict(response.json())


async def test_trains_and_forecasts_samples(chapkit_client: Any, tmp_path: Path) -> None:
    client = await chapkit_client(create_app(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"))
    info = (await client.get("/api/v1/info")).json()
    horizon = max(1, info["min_prediction_periods"], min(3, info["max_prediction_periods"]))
    config = (await client.post("/api/v1/configs", json={"name": "defaults", "data": {}})).json()
    sample = "/api/v1/ml/$generate-sample-data"
    query = {"num_locations": 2, "num_periods": 60, "prediction_periods": horizon, "seed": 1}
    body = (await client.get(sample, params={**query, "kind": "train", "config_id": config["id"]})).json()
    run_info = {"prediction_periods": horizon}
    trained = await finished(client, await client.post("/api/v1/ml/$train", json={**body, "run_info": run_info}))

    body = (await client.get(sample, params={**query, "kind": "predict"})).json()
    request = {**body, "artifact_id": trained["artifact_id"], "run_info": run_info}
    predicted = await finished(client, await client.post("/api/v1/ml/$predict", json=request))
    artifact = (await client.get(f"/api/v1/artifacts/{predicted['artifact_id']}")).json()
    frame = prediction_frame(artifact["data"])
    assert frame is not None, artifact
    rows = [dict(zip(frame.columns, row, strict=True)) for row in frame.data]
    samples = [column for column in frame.columns if column.startswith("sample_")]
    assert samples, frame.columns
    future = body["future"]
    where = [future["columns"].index("location"), future["columns"].index("time_period")]
    expected = {(row[where[0]], row[where[1]]) for row in future["data"]}
    assert {(row["location"], row["time_period"]) for row in rows} == expected
    assert all(math.isfinite(row[name]) for row in rows for name in samples)
'''


def needs(commands: list[str]) -> list[str]:
    """The programs `commands` start with (`Rscript`, `python`, ...), for the written test to require."""
    found: list[str] = []
    for command in commands:
        try:
            words = shlex.split(command)
        except ValueError:
            continue
        words = [word for word in words if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word)]
        if words and "/" not in words[0] and re.match(r"^[A-Za-z0-9_.+-]+$", words[0]) and words[0] not in found:
            found.append(words[0])
    return found


def migration_files(name: str, package: str, commands: list[str]) -> dict[str, str]:
    """The service module and its test, by path relative to the model directory."""
    return {
        SERVICE_FILE: SERVICE.replace("__NAME__", name).replace("__PKG__", package),
        TEST_FILE: TEST.replace("__NEEDS__", repr(needs(commands))),
    }


__all__ = ["MODULE", "SERVICE_FILE", "TEST_FILE", "migration_files", "needs"]
