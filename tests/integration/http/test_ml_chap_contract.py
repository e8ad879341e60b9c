"""The newer generation of the ML contract (chap-core's, D24) beside the reference's, over HTTP.

A request naming `artifact_id` or carrying `run_info` is of the newer generation: its forecast is stored
in chap-core's shape with samples; a model script that fails leaves a diagnostic workspace at the
promised id; data the model cannot use fails the job (202 first), and `$validate` says so up front.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from chapkit import BaseConfig, BaseModelRunner, FunctionalModelRunner, MLServiceInfo
from chapkit.domain.ml_artifacts import ModelRunFailedError
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import ML, artifact_ids, create_config, frame, ml_service, wait_for_job

CHAP_PREDICTION_KEYS = {"type", "metadata", "content", "content_type", "content_size"}
TRAIN = frame(
    ["time_period", "location", "rain", "disease_cases"],
    [
        ["2024-01", "a", 1.0, 10.0],
        ["2024-02", "a", 2.0, 20.0],
        ["2024-01", "b", 1.0, 11.0],
        ["2024-02", "b", 2.0, 22.0],
    ],
)
FUTURE = frame(
    ["time_period", "location", "rain"],
    [["2024-03", "a", 3.0], ["2024-04", "a", 4.0], ["2024-03", "b", 3.0], ["2024-04", "b", 4.0]],
)
SEEN: list[dict[str, Any]] = []
"""The configs the model functions were called with (the test process's own model)."""


def train_mean(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    SEEN.append(config.model_dump())
    return {"per_rain": float((data["disease_cases"] / data["rain"]).mean())}


def predict_samples(
    config: BaseConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    SEEN.append(config.model_dump())
    out = future[["time_period", "location"]].copy()
    mean = future["rain"].to_numpy() * model["per_rain"]
    for index in range(5):
        out[f"sample_{index}"] = mean + index
    return out


def predict_point(
    config: BaseConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    out = future.copy()
    out["disease_cases"] = future["rain"] * model["per_rain"]
    return out


def predict_nan(
    config: BaseConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    out = predict_samples(config, model, historic, future)
    out.loc[0, "sample_1"] = np.nan
    return out


def predict_without_location(
    config: BaseConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    return predict_samples(config, model, historic, future).drop(columns=["location"])


INFO = MLServiceInfo(display_name="Chap contract", min_prediction_periods=1, max_prediction_periods=6)


@pytest.fixture
async def client(storage_url: str) -> AsyncIterator[httpx.AsyncClient]:
    runner = FunctionalModelRunner(on_train=train_mean, on_predict=predict_samples)
    async with serve(ml_service(storage_url, runner=runner, info=INFO).build()) as client:
        yield client


async def done(client: httpx.AsyncClient, response: httpx.Response, status: str = "completed") -> dict[str, Any]:
    assert response.status_code == 202, response.text
    record = await wait_for_job(client, response.json()["job_id"])
    assert record["status"] == status, (record.get("error"), record)
    return record


async def chap_model(client: httpx.AsyncClient, config_id: str, **run_info: Any) -> str:
    body: dict[str, Any] = {"config_id": config_id, "data": TRAIN}
    if run_info:
        body["run_info"] = run_info
    response = await client.post(f"{ML}/$train", json=body)
    await done(client, response)
    assert response.json()["artifact_id"] == response.json()["model_artifact_id"]
    model_id: str = response.json()["artifact_id"]
    return model_id


async def chap_predict(client: httpx.AsyncClient, model_id: str, **extra: Any) -> httpx.Response:
    body = {"artifact_id": model_id, "historic": TRAIN, "future": FUTURE, **extra}
    return await client.post(f"{ML}/$predict", json=body)


async def test_a_chap_prediction_is_stored_in_chap_cores_shape_with_samples(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client, additional_continuous_covariates=[])
    model_id = await chap_model(client, config_id, prediction_periods=2, additional_continuous_covariates=[])
    response = await chap_predict(client, model_id, run_info={"prediction_length": 2})
    record = await done(client, response)
    answer = response.json()
    assert answer["artifact_id"] == answer["prediction_artifact_id"] == record["artifact_id"]

    artifact = (await client.get(f"/api/v1/artifacts/{answer['artifact_id']}")).json()
    assert artifact["parent_id"] == model_id and artifact["level"] == 1
    data = artifact["data"]
    assert set(data) == CHAP_PREDICTION_KEYS
    assert data["type"] == "ml_prediction" and data["content_type"] == "application/vnd.chapkit.dataframe+json"
    assert data["content_size"] is None
    metadata = data["metadata"]
    assert metadata["status"] == "success" and metadata["config_id"] == config_id
    assert {"started_at", "completed_at", "duration_seconds"} <= set(metadata)
    content = data["content"]
    assert content["columns"] == ["time_period", "location", *(f"sample_{index}" for index in range(5))]
    assert content["data"][0] == ["2024-03", "a", 31.5, 32.5, 33.5, 34.5, 35.5]
    assert {"name": "sample_0", "type": "number"} in content["schema"]["fields"]


async def test_the_reference_way_keeps_the_reference_shape(client: httpx.AsyncClient) -> None:
    model_id = await chap_model(client, await create_config(client))
    response = await client.post(
        f"{ML}/$predict", json={"model_artifact_id": model_id, "historic": TRAIN, "future": FUTURE}
    )
    await done(client, response)
    data = (await client.get(f"/api/v1/artifacts/{response.json()['prediction_artifact_id']}")).json()["data"]
    assert data["ml_type"] == "prediction" and data["model_artifact_id"] == model_id
    assert data["predictions"]["columns"][:3] == ["time_period", "location", "sample_0"]


async def test_the_model_gets_the_resolved_horizon_and_covariates_and_the_stored_config_is_unchanged(
    client: httpx.AsyncClient,
) -> None:
    SEEN.clear()
    config_id = await create_config(client, prediction_periods=3, additional_continuous_covariates=["rain"])
    model_id = await chap_model(client, config_id, prediction_length=4, additional_continuous_covariates=["rain"])
    assert SEEN[-1]["prediction_periods"] == 4
    await done(client, await chap_predict(client, model_id))
    assert SEEN[-1]["prediction_periods"] == 2  # two periods per location in `future`
    await done(client, await chap_predict(client, model_id, run_info={"prediction_periods": 5}))
    assert SEEN[-1]["prediction_periods"] == 5
    stored = (await client.get(f"/api/v1/configs/{config_id}")).json()["data"]
    assert stored == {"scale": 1.0, "prediction_periods": 3, "additional_continuous_covariates": ["rain"]}


async def test_a_horizon_outside_the_bounds_fails_the_job(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    train = await client.post(
        f"{ML}/$train", json={"config_id": config_id, "data": TRAIN, "run_info": {"prediction_periods": 7}}
    )
    record = await done(client, train, "failed")
    assert "exceeds the maximum this model predicts (6)" in record["error"]
    model_id = await chap_model(client, config_id)
    record = await done(client, await chap_predict(client, model_id, run_info={"prediction_periods": 0}), "failed")
    assert "below the minimum this model predicts (1)" in record["error"]
    assert await artifact_ids(client) == [model_id]


@pytest.mark.parametrize(
    ("predict", "expected"),
    [
        (predict_nan, "`sample_1` holds 1 value(s) that are missing, not numbers or infinite"),
        (predict_without_location, "the predictions lack `location`"),
    ],
)
async def test_forecasts_chap_core_cannot_read_fail_the_job(storage_url: str, predict: Any, expected: str) -> None:
    runner = FunctionalModelRunner(on_train=train_mean, on_predict=predict)
    async with serve(ml_service(storage_url, runner=runner, info=INFO).build()) as client:
        model_id = await chap_model(client, await create_config(client))
        record = await done(client, await chap_predict(client, model_id), "failed")
        assert expected in record["error"]
        assert await artifact_ids(client) == [model_id]


async def test_a_point_forecast_of_the_target_becomes_sample_0(storage_url: str) -> None:
    runner = FunctionalModelRunner(on_train=train_mean, on_predict=predict_point)
    async with serve(ml_service(storage_url, runner=runner, info=INFO).build()) as client:
        model_id = await chap_model(client, await create_config(client))
        response = await chap_predict(client, model_id)
        await done(client, response)
        content = (await client.get(f"/api/v1/artifacts/{response.json()['artifact_id']}")).json()["data"]["content"]
        assert content["columns"][-2:] == ["disease_cases", "sample_0"]
        assert all(row[-1] == row[-2] for row in content["data"])


class FailingScript(BaseModelRunner):
    """A runner whose 'script' fails the way a shell model's does."""

    async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> Any:
        raise _failure("Rscript train.R", "Error in fit(): boom\nExecution halted\n")

    async def on_predict(self, config: BaseConfig, model: Any, historic: Any, future: Any, geo: Any = None) -> Any:
        raise _failure("python predict.py", "Traceback\nValueError: no\n")


def _failure(command: str, stderr: str) -> ModelRunFailedError:
    workspace = io.BytesIO()
    with zipfile.ZipFile(workspace, "w") as archive:
        archive.writestr("data.csv", "x\n1\n")
    return ModelRunFailedError(
        f"{command} exited with 3",
        command=command,
        exit_code=3,
        stdout="fitting\n",
        stderr=stderr,
        workspace=workspace.getvalue(),
    )


async def test_a_failed_script_leaves_its_workspace_at_the_promised_id(storage_url: str) -> None:
    async with serve(ml_service(storage_url, runner=FailingScript(), info=INFO).build()) as client:
        config_id = await create_config(client)
        response = await client.post(f"{ML}/$train", json={"config_id": config_id, "data": TRAIN})
        record = await done(client, response, "failed")
        promised = response.json()["artifact_id"]
        assert "train script failed with exit code 3 (command: Rscript train.R)" in record["error"]
        assert f"diagnostic artifact {promised}" in record["error"]
        assert "stderr tail: Error in fit(): boom | Execution halted" in record["error"]
        workspace = (await client.get(f"/api/v1/artifacts/{promised}")).json()
        data = workspace["data"]
        assert data["type"] == "ml_training_workspace" and data["content_type"] == "application/zip"
        assert data["metadata"]["status"] == "failed" and data["metadata"]["exit_code"] == 3
        assert (
            data["metadata"]["stderr"].startswith("Error in fit(): boom") and data["metadata"]["stdout"] == "fitting\n"
        )
        linked = (await client.get(f"/api/v1/configs/{config_id}/$artifacts")).json()
        assert [item["id"] for item in linked] == [promised]

        record = await done(client, await chap_predict(client, promised), "failed")
        assert f"Cannot predict using failed training artifact {promised}" in record["error"]
        check = {"type": "predict", "artifact_id": promised, "historic": TRAIN, "future": FUTURE}
        answer = (await client.post(f"{ML}/$validate", json=check)).json()
        assert answer["valid"] is False
        assert ("training_artifact_failed", "artifact_id") in {(d["code"], d["field"]) for d in answer["diagnostics"]}


async def test_a_failed_predict_script_leaves_its_workspace_under_the_model(storage_url: str) -> None:
    class TrainsThenFails(FailingScript):
        async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> Any:
            return {"per_rain": 1.0}

    async with serve(ml_service(storage_url, runner=TrainsThenFails(), info=INFO).build()) as client:
        model_id = await chap_model(client, await create_config(client))
        response = await chap_predict(client, model_id)
        record = await done(client, response, "failed")
        assert "predict script failed with exit code 3" in record["error"] and "ValueError: no" in record["error"]
        workspace = (await client.get(f"/api/v1/artifacts/{response.json()['artifact_id']}")).json()
        assert workspace["parent_id"] == model_id and workspace["data"]["type"] == "ml_prediction_workspace"


def test_a_run_failure_survives_pickling() -> None:
    failure = pickle.loads(pickle.dumps(_failure("sh run.sh", "a\n\nb\n")))
    assert isinstance(failure, ModelRunFailedError)
    assert (failure.command, failure.exit_code, failure.stderr_tail()) == ("sh run.sh", 3, "a | b")
    assert zipfile.ZipFile(io.BytesIO(failure.workspace or b"")).namelist() == ["data.csv"]


async def test_validate_takes_the_newer_shape_and_reports_the_contracts_codes(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    model_id = await chap_model(client, config_id)
    train = {"type": "train", "config_id": config_id, "data": TRAIN, "run_info": {"prediction_periods": 9}}
    answer = (await client.post(f"{ML}/$validate", json=train)).json()
    assert answer["valid"] is False
    assert [(d["code"], d["field"]) for d in answer["diagnostics"]] == [
        ("prediction_periods_out_of_bounds", "run_info.prediction_periods")
    ]
    predict = {"type": "predict", "artifact_id": model_id, "historic": frame(["x"], []), "future": FUTURE}
    answer = (await client.post(f"{ML}/$validate", json={**predict, "run_info": {"prediction_periods": 3}})).json()
    assert answer["valid"] is True
    assert {(d["severity"], d["code"]) for d in answer["diagnostics"]} == {
        ("warning", "historic_empty"),
        ("warning", "prediction_periods_mismatch"),
    }
    unknown = {**predict, "artifact_id": "01K0000000000000000000000Z", "future": frame(["x"], [])}
    answer = (await client.post(f"{ML}/$validate", json=unknown)).json()
    assert {d["code"] for d in answer["diagnostics"]} >= {"training_artifact_not_found", "future_empty"}
    assert (
        await client.post(f"{ML}/$validate", json={k: v for k, v in predict.items() if k != "type"})
    ).status_code == 422


async def test_generated_sample_data_trains_and_predicts(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client, additional_continuous_covariates=["rain"], prediction_periods=4)
    body = (await client.get(f"{ML}/$generate-sample-data", params={"config_id": config_id, "seed": 7})).json()
    assert body["config_id"] == config_id and "geo" not in body
    assert body == (await client.get(f"{ML}/$generate-sample-data", params={"config_id": config_id, "seed": 7})).json()
    data = body["data"]
    assert data["columns"] == ["time_period", "location", "rain", "population", "disease_cases"]
    assert len(data["data"]) == 5 * 50 and {"name": "rain", "type": "number"} in data["schema"]["fields"]
    trained = await client.post(f"{ML}/$train", json=body)
    await done(client, trained)
    model_id = trained.json()["artifact_id"]
    params = {
        "kind": "predict",
        "config_id": config_id,
        "num_locations": 2,
        "period_type": "weekly",
        "include_geo": True,
    }
    payload = (await client.get(f"{ML}/$generate-sample-data", params=params)).json()
    assert len(payload["future"]["data"]) == 2 * 4 and payload["future"]["data"][0][0].startswith("2020-W")
    assert [feature["id"] for feature in payload["geo"]["features"]] == ["location_1", "location_2"]
    await done(client, await chap_predict(client, model_id, **{k: payload[k] for k in ("historic", "future")}))


async def test_generate_sample_data_refuses_bad_input_clearly(client: httpx.AsyncClient) -> None:
    url = f"{ML}/$generate-sample-data"
    assert (await client.get(url, params={"config_id": "01K0000000000000000000000Z"})).status_code == 404
    refused = [{"config_id": "nope"}, {"num_locations": 0}, {"num_periods": 10**6}, {"kind": "other"}]
    # A sample is a payload to try the service with: 100 locations, 520 periods, 10 features at most.
    refused += [{"num_locations": 101}, {"num_periods": 521}, {"num_features": 11}, {"prediction_periods": 521}]
    for params in refused:
        response = await client.get(url, params=params)
        assert response.status_code == 422, (params, response.text)
    largest = await client.get(url, params={"num_locations": 100, "num_periods": 520, "seed": 1})
    assert largest.status_code == 200 and len(largest.json()["data"]["data"]) == 100 * 520
