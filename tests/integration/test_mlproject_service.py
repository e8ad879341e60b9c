"""An MLproject directory served in process: chap-core's config round trip, its schema, train and predict."""

from __future__ import annotations

import math
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from chapkit import mlproject_app, prediction_frame
from chapkit.testing import serve_app, wait_for_job
from tests.support.mlprojects import PYTHON_MODEL, R_MODEL, copy_mlproject

ML = "/api/v1/ml"


@pytest.fixture
async def r_service(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    if shutil.which("Rscript") is None:
        pytest.skip("the R model needs Rscript")
    app = mlproject_app(copy_mlproject(R_MODEL, tmp_path / "r_model"))
    async with serve_app(app) as client:
        yield client


async def completed(client: httpx.AsyncClient, response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    job = await wait_for_job(client, response.json()["job_id"])
    assert job["status"] == "completed", job
    artifact = (await client.get(f"/api/v1/artifacts/{response.json()['artifact_id']}")).json()
    return dict(artifact["data"])


async def test_the_r_model_trains_and_forecasts_its_configured_samples(r_service: httpx.AsyncClient) -> None:
    client = r_service
    # As chap-core posts a configured model: options flattened, covariates listed; it gets them back as sent.
    posted = {"season_weight": 0.5, "n_samples": 20, "additional_continuous_covariates": []}
    config = (await client.post("/api/v1/configs", json={"name": "chap", "data": posted})).json()
    assert config["data"] == posted

    query = {"num_locations": 2, "num_periods": 36, "prediction_periods": 3, "seed": 3}
    body = (await client.get(f"{ML}/$generate-sample-data", params={**query, "config_id": config["id"]})).json()
    run_info = {"prediction_periods": 3}
    train = await client.post(f"{ML}/$train", json={**body, "run_info": run_info})
    trained = await completed(client, train)
    assert trained["metrics"] == {"training_rows": 72.0}

    body = (await client.get(f"{ML}/$generate-sample-data", params={**query, "kind": "predict"})).json()
    request = {**body, "artifact_id": train.json()["artifact_id"], "run_info": run_info}
    frame = prediction_frame(await completed(client, await client.post(f"{ML}/$predict", json=request)))
    assert frame is not None
    assert frame.columns == ["time_period", "location", *(f"sample_{index}" for index in range(20))]
    future = body["future"]["data"]
    assert sorted((row[0], row[1]) for row in frame.data) == sorted((row[0], row[1]) for row in future)
    assert all(math.isfinite(value) and value >= 0 for row in frame.data for value in row[2:])


async def test_the_schema_offers_the_user_options_as_chap_core_reads_them(r_service: httpx.AsyncClient) -> None:
    schema = (await r_service.get("/api/v1/configs/$schema")).json()
    options = schema["$defs"]["ModelConfiguration"]["properties"]
    assert options["season_weight"]["default"] == 0.7 and options["season_weight"]["maximum"] == 1
    assert options["n_samples"] == {
        "default": 100,
        "description": "Samples drawn per forecast row",
        "title": "N Samples",
        "type": "integer",
    }
    refused = await r_service.post("/api/v1/configs", json={"name": "bad", "data": {"season_weight": 2}})
    assert refused.status_code == 422


async def test_the_python_model_reports_a_failure_with_its_stderr(tmp_path: Path) -> None:
    directory = copy_mlproject(PYTHON_MODEL, tmp_path / "python_model", venv=True)
    (directory / "weekly_model.py").write_text("raise SystemExit('weekly_model: cannot start (marker 51c2)')\n")
    async with serve_app(mlproject_app(directory)) as client:
        config = (await client.post("/api/v1/configs", json={"name": "c", "data": {}})).json()
        query = {"config_id": config["id"], "num_locations": 1, "num_periods": 20, "seed": 1}
        body = (await client.get(f"{ML}/$generate-sample-data", params=query)).json()
        train = await client.post(f"{ML}/$train", json=body)
        job = await wait_for_job(client, train.json()["job_id"])
    assert job["status"] == "failed"
    assert "train script failed with exit code 1" in job["error"]
    assert "weekly_model: cannot start (marker 51c2)" in job["error"]
