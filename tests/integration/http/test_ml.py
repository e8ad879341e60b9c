"""The ML API of an `MLServiceBuilder` service: `$train`, `$predict`, `$validate` on every storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pandas as pd
import pytest

from chapkit import MLServiceInfo
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import (
    FUTURE,
    ML,
    SlopeConfig,
    create_config,
    ml_service,
    predict,
    predict_slope,
    train,
    train_slope,
    trained_model,
    wait_for_job,
)


@pytest.fixture
async def client(storage_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(ml_service(storage_url).build()) as client:
        yield client


async def test_train_then_predict_stores_a_linked_model_and_a_child_prediction(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client, scale=2.0)
    submitted = await train(client, config_id)
    assert set(submitted) == {"job_id", "artifact_id", "model_artifact_id", "message"}
    assert submitted["artifact_id"] == submitted["model_artifact_id"]
    record = await wait_for_job(client, submitted["job_id"])
    assert record["status"] == "completed", record
    model_id = submitted["model_artifact_id"]
    assert record["artifact_id"] == model_id

    model = (await client.get(f"/api/v1/artifacts/{model_id}")).json()
    assert model["level"] == 0 and model["parent_id"] is None
    data = model["data"]
    assert data["ml_type"] == "trained_model" and data["config_id"] == config_id
    assert data["model"] == {"slope": pytest.approx(4.0)}
    assert data["model_type"] == "builtins.dict" and data["model_size_bytes"] > 0
    assert {"started_at", "completed_at", "duration_seconds"} <= set(data)
    linked = (await client.get(f"/api/v1/configs/{config_id}/$artifacts")).json()
    assert [artifact["id"] for artifact in linked] == [model_id]

    response = await predict(client, model_id)
    assert response.status_code == 202, response.text
    submitted = response.json()
    assert set(submitted) == {"job_id", "artifact_id", "prediction_artifact_id", "message"}
    record = await wait_for_job(client, submitted["job_id"])
    assert record["status"] == "completed", record
    prediction_id = submitted["prediction_artifact_id"]
    assert record["artifact_id"] == prediction_id
    prediction = (await client.get(f"/api/v1/artifacts/{prediction_id}")).json()
    assert prediction["level"] == 1 and prediction["parent_id"] == model_id
    stored = prediction["data"]
    assert stored["ml_type"] == "prediction" and stored["model_artifact_id"] == model_id
    assert stored["config_id"] == config_id
    assert stored["predictions"] == {"columns": ["x", "y"], "data": [[4.0, 16.0], [5.0, 20.0]]}

    tree = (await client.get(f"/api/v1/artifacts/{model_id}/$tree")).json()
    assert tree["level_label"] == "trained_model" and tree["config"]["id"] == config_id
    assert [child["level_label"] for child in tree["children"]] == ["prediction"]


async def test_validate_reports_without_running(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    body: dict[str, Any] = {"type": "train", "config_id": config_id, "data": {"columns": ["x", "y"], "data": [[1, 2]]}}
    answer = (await client.post(f"{ML}/$validate", json=body)).json()
    assert answer == {"valid": True, "diagnostics": []}
    assert (await client.get("/api/v1/jobs")).json() == []

    model_id = await trained_model(client, config_id)
    body = {"type": "predict", "model_artifact_id": model_id, "historic": FUTURE, "future": FUTURE}
    assert (await client.post(f"{ML}/$validate", json=body)).json() == {"valid": True, "diagnostics": []}


async def test_get_ml_manager_and_the_info(storage_url: str) -> None:
    info = MLServiceInfo(display_name="Slope", author="A. Modeller", contact_email="a@example.org")
    async with serve(ml_service(storage_url, info=info).build()) as client:
        got = (await client.get("/api/v1/info")).json()
        assert got["author"] == "A. Modeller" and got["contact_email"] == "a@example.org"
        assert (await client.get("/health")).status_code == 200
        assert (await client.get("/api/v1/system")).status_code == 200


class DuckTypedRunner:
    """A runner that does not subclass `BaseModelRunner` and has no hooks: only `on_train` and `on_predict`."""

    async def on_train(self, config: SlopeConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
        return train_slope(config, data, geo)

    async def on_predict(
        self,
        config: SlopeConfig,
        model: dict[str, float],
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: Any = None,
    ) -> pd.DataFrame:
        return predict_slope(config, model, historic, future, geo)


async def test_a_duck_typed_runner_trains_and_predicts(storage_url: str) -> None:
    async with serve(ml_service(storage_url, runner=DuckTypedRunner()).build()) as client:  # type: ignore[arg-type]
        model_id = await trained_model(client, await create_config(client, scale=2.0))
        response = await predict(client, model_id)
        assert response.status_code == 202, response.text
        record = await wait_for_job(client, response.json()["job_id"])
        assert record["status"] == "completed", record
        prediction = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()
        assert prediction["data"]["predictions"]["data"][0][-1] == pytest.approx(16.0)
