"""Bad input to the ML API: each case is a clear problem or a failed job with a readable error, and nothing
already stored is touched (issue 10, "Bad input")."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from chapkit import (
    BaseConfig,
    BaseModelRunner,
    FunctionalModelRunner,
    MLServiceBuilder,
    MLServiceInfo,
    ServiceBuilder,
    ServiceInfo,
)
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import (
    FUTURE,
    HIERARCHY,
    ML,
    TRAIN_DATA,
    artifact_ids,
    create_config,
    frame,
    ml_service,
    predict,
    predict_slope,
    train,
    train_slope,
    trained_model,
    wait_for_job,
)

PROBLEM = "application/problem+json"


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture
async def client(storage_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(ml_service(storage_url).build()) as client:
        yield client


async def failed_job(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    record = await wait_for_job(client, job_id)
    assert record["status"] == "failed", record
    assert record["artifact_id"] is None
    return record


# ---------------------------------------------------------------- unknown or wrong ids


async def test_unknown_config_is_404_and_nothing_is_scheduled(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{ML}/$train", json={"config_id": "01K0000000000000000000000Z", "data": TRAIN_DATA})
    assert "not found" in problem(response, 404)["detail"]
    assert (await client.get("/api/v1/jobs")).json() == []


async def test_unknown_model_is_404(client: httpx.AsyncClient) -> None:
    assert "not found" in problem(await predict(client, "01K0000000000000000000000Z"), 404)["detail"]
    assert (await client.get("/api/v1/jobs")).json() == []


async def test_a_prediction_id_instead_of_a_model_id_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    model_id = await trained_model(client, config_id)
    submitted = (await predict(client, model_id)).json()
    await wait_for_job(client, submitted["job_id"])
    prediction_id = submitted["prediction_artifact_id"]
    body = problem(await predict(client, prediction_id), 422)
    assert body["field"] == "model_artifact_id" and body["code"] == "not-a-model"
    assert "prediction artifact" in body["detail"]
    plain = (await client.post("/api/v1/artifacts", json={"data": {"weights": [1]}})).json()["id"]
    assert problem(await predict(client, plain), 422)["field"] == "model_artifact_id"
    assert len(await artifact_ids(client)) == 3


async def test_malformed_ids_are_422(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{ML}/$train", json={"config_id": "nope", "data": TRAIN_DATA})
    assert response.status_code == 422
    assert (await predict(client, "nope")).status_code == 422


@pytest.fixture
def shared_url(storage_url: str) -> str:
    if storage_url.startswith("memory://"):
        pytest.skip("two services share a database only on SQL storage")
    return storage_url


class StrictConfig(BaseConfig):
    epochs: int


class OtherConfig(BaseConfig):
    layers: list[int]


async def test_a_config_of_another_service_is_422(shared_url: str) -> None:
    other = ServiceBuilder(info=ServiceInfo(display_name="Other")).with_database(shared_url).with_config(OtherConfig)
    async with serve(other.build()) as other_client:
        response = await other_client.post("/api/v1/configs", json={"name": "x", "data": {"layers": [1, 2]}})
        foreign_id = response.json()["id"]
    ml = MLServiceBuilder(
        info=MLServiceInfo(display_name="Strict"),
        config_schema=StrictConfig,
        hierarchy=HIERARCHY,
        runner=FunctionalModelRunner(on_train=train_slope, on_predict=predict_slope),
        database_url=shared_url,
    )
    async with serve(ml.build()) as client:
        body = problem(await client.post(f"{ML}/$train", json={"config_id": foreign_id, "data": TRAIN_DATA}), 422)
        assert body["field"] == "config_id" and "StrictConfig" in body["detail"]
        assert (await client.get("/api/v1/jobs")).json() == []


# ---------------------------------------------------------------- data shapes


async def test_rows_that_do_not_fit_the_columns_are_422(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    body = {"config_id": config_id, "data": frame(["x", "y"], [[1.0, 2.0], [3.0]])}
    response = await client.post(f"{ML}/$train", json=body)
    assert response.status_code == 422 and "row 1 has 1 values for 2 columns" in response.text
    repeated = {"config_id": config_id, "data": frame(["x", "x"], [[1.0, 2.0]])}
    assert (await client.post(f"{ML}/$train", json=repeated)).status_code == 422


async def test_empty_frames_are_422(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    body = problem(await client.post(f"{ML}/$train", json={"config_id": config_id, "data": frame(["x", "y"], [])}), 422)
    assert body["field"] == "data" and body["code"] == "empty-data"
    model_id = await trained_model(client, config_id)
    body = problem(await predict(client, model_id, future=frame(["x"], [])), 422)
    assert body["field"] == "future"


async def test_missing_columns_and_non_numbers_fail_the_job_readably_and_store_nothing(
    client: httpx.AsyncClient,
) -> None:
    config_id = await create_config(client)
    model_id = await trained_model(client, config_id)
    before = await artifact_ids(client)
    missing = await train(client, config_id, frame(["x", "z"], [[1.0, 2.0]]))
    record = await failed_job(client, missing["job_id"])
    assert "KeyError" in record["error"] and "'y'" in record["error"]
    assert record["error_traceback"]
    words = await train(client, config_id, frame(["x", "y"], [["a", "b"]]))
    assert "TypeError" in (await failed_job(client, words["job_id"]))["error"]
    response = await predict(client, model_id, future=frame(["w"], [[1.0]]))
    assert "KeyError" in (await failed_job(client, response.json()["job_id"]))["error"]
    assert await artifact_ids(client) == before


async def test_null_values_round_trip_as_nan_and_back_to_null(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    data = frame(["x", "y"], [[1.0, 2.0], [2.0, None], [None, 3.0], [3.0, 6.0]])
    submitted = await train(client, config_id, data)
    assert (await wait_for_job(client, submitted["job_id"]))["status"] == "completed"
    model_id = submitted["model_artifact_id"]
    response = await predict(client, model_id, future=frame(["x"], [[1.0], [None]]))
    record = await wait_for_job(client, response.json()["job_id"])
    assert record["status"] == "completed", record
    stored = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()["data"]["predictions"]
    assert stored["data"][1] == [None, None]
    assert stored["data"][0][1] == pytest.approx(20 / 14)  # pandas sums skip NaN


async def test_a_hundred_thousand_rows_train_and_predict(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    rows = [[float(i % 100 + 1), 2.0 * (i % 100 + 1)] for i in range(100_000)]
    submitted = await train(client, config_id, frame(["x", "y"], rows))
    assert (await wait_for_job(client, submitted["job_id"], timeout=120))["status"] == "completed"
    response = await predict(client, submitted["model_artifact_id"], future=frame(["x"], [[x] for x, _ in rows]))
    record = await wait_for_job(client, response.json()["job_id"], timeout=120)
    assert record["status"] == "completed", record
    stored = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()["data"]["predictions"]
    assert len(stored["data"]) == 100_000 and stored["data"][99_999][1] == pytest.approx(200.0)


# ---------------------------------------------------------------- what the service declares


REQUIRING = MLServiceInfo(
    display_name="Weekly",
    period_type="week",
    min_prediction_periods=1,
    max_prediction_periods=2,
    required_covariates=["x"],
    requires_geo=True,
)
GEO = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "id": "oslo", "geometry": {"type": "Point", "coordinates": [10.7, 59.9]}, "properties": {}}
    ],
}


async def test_requests_that_break_the_declared_requirements_are_422_naming_the_field(storage_url: str) -> None:
    async with serve(ml_service(storage_url, info=REQUIRING).build()) as client:
        config_id = await create_config(client)

        async def refused(data: dict[str, Any], geo: Any = GEO) -> dict[str, Any]:
            response = await client.post(f"{ML}/$train", json={"config_id": config_id, "data": data, "geo": geo})
            return problem(response, 422)

        good = frame(["time_period", "location", "x", "y"], [["2024-W01", "oslo", 1.0, 2.0]])
        assert (await refused(frame(["y"], [[1.0]])))["field"] == "data.x"
        assert (await refused(good, geo=None))["field"] == "geo"
        not_numbers = await refused(frame(["x", "y"], [["wet", 1.0]]))
        assert not_numbers["field"] == "data.x" and "'wet'" in not_numbers["detail"]
        months = await refused(frame(["time_period", "x", "y"], [["2024-01", 1.0, 2.0]]))
        assert months["field"] == "data.time_period" and months["code"] == "period-type"
        elsewhere = await refused(frame(["location", "x", "y"], [["bergen", 1.0, 2.0]]))
        assert elsewhere["field"] == "data.location" and "'bergen'" in elsewhere["detail"]

        submitted = await client.post(f"{ML}/$train", json={"config_id": config_id, "data": good, "geo": GEO})
        assert submitted.status_code == 202, submitted.text
        assert (await wait_for_job(client, submitted.json()["job_id"]))["status"] == "completed"
        model_id = submitted.json()["model_artifact_id"]
        periods = [["2024-W02", 1.0], ["2024-W03", 2.0], ["2024-W04", 3.0]]
        too_many = await predict(client, model_id, future=frame(["time_period", "x"], periods), geo=GEO)
        assert problem(too_many, 422)["code"] == "too-many-periods"

        check = {"type": "train", "config_id": config_id, "data": frame(["y"], [[None]])}
        answer = (await client.post(f"{ML}/$validate", json=check)).json()
        assert answer["valid"] is False
        assert {(d["severity"], d["code"], d["field"]) for d in answer["diagnostics"]} == {
            ("error", "missing-column", "data.x"),
            ("error", "geo-required", "geo"),
        }
        unknown = {"type": "predict", "model_artifact_id": "01K0000000000000000000000Z", "historic": FUTURE}
        answer = (await client.post(f"{ML}/$validate", json={**unknown, "future": FUTURE, "geo": GEO})).json()
        assert ("model-not-found", "model_artifact_id") in {(d["code"], d["field"]) for d in answer["diagnostics"]}
        assert len(await artifact_ids(client)) == 1


def test_inconsistent_requirements_are_refused() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        MLServiceInfo(display_name="x", min_prediction_periods=3, max_prediction_periods=2)
    with pytest.raises(ValueError):
        MLServiceInfo(display_name="x", period_type="day")  # type: ignore[arg-type]


# ---------------------------------------------------------------- what model functions return


class Unpicklable:
    def __init__(self) -> None:
        self.lock = threading.Lock()


@pytest.mark.parametrize(
    ("train_function", "expected"),
    [
        (lambda config, data, geo: 1 / 0, "ZeroDivisionError"),
        (lambda config, data, geo: None, "returned None"),
        (lambda config, data, geo: Unpicklable(), "cannot be pickled"),
    ],
    ids=["raises", "returns-none", "unpicklable"],
)
async def test_train_functions_that_fail_leave_a_failed_job_and_no_artifact(
    storage_url: str, train_function: Any, expected: str
) -> None:
    runner = FunctionalModelRunner(on_train=train_function, on_predict=predict_slope)
    async with serve(ml_service(storage_url, runner=runner).build()) as client:
        config_id = await create_config(client)
        record = await failed_job(client, (await train(client, config_id))["job_id"])
        assert expected in record["error"] and record["error_traceback"]
        assert await artifact_ids(client) == []
        assert (await client.get(f"/api/v1/configs/{config_id}")).status_code == 200


async def test_predict_functions_must_return_a_data_frame(storage_url: str) -> None:
    runner = FunctionalModelRunner(on_train=train_slope, on_predict=lambda *args: None)
    async with serve(ml_service(storage_url, runner=runner).build()) as client:
        model_id = await trained_model(client, await create_config(client))
        record = await failed_job(client, (await predict(client, model_id)).json()["job_id"])
        assert "must return a pandas DataFrame" in record["error"]
        assert await artifact_ids(client) == [model_id]


# ---------------------------------------------------------------- deletions between submit and run


class GatedRunner(BaseModelRunner):
    """Waits for the test before training or predicting; counts its lifecycle hooks."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.calls: list[str] = []

    async def on_init(self) -> None:
        self.calls.append("init")

    async def on_cleanup(self) -> None:
        self.calls.append("cleanup")

    async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> Any:
        self.entered.set()
        await self.release.wait()
        return {"slope": 2.0}

    async def on_predict(
        self, config: BaseConfig, model: Any, historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
    ) -> pd.DataFrame:
        self.entered.set()
        await self.release.wait()
        return future.assign(y=future["x"] * model["slope"])

    def reset(self) -> None:
        self.entered.clear()
        self.release.clear()


async def test_a_config_deleted_while_training_fails_the_job_and_stores_nothing(storage_url: str) -> None:
    runner = GatedRunner()
    async with serve(ml_service(storage_url, runner=runner).build()) as client:
        keep = await create_config(client)
        runner.release.set()
        kept_model = await trained_model(client, keep)
        runner.reset()
        doomed = await create_config(client)
        submitted = await train(client, doomed)
        await runner.entered.wait()
        assert (await client.delete(f"/api/v1/configs/{doomed}")).status_code == 204
        runner.release.set()
        record = await failed_job(client, submitted["job_id"])
        assert "deleted" in record["error"]
        assert await artifact_ids(client) == [kept_model]
        assert runner.calls == ["init", "cleanup", "init", "cleanup"]


async def test_a_model_deleted_while_predicting_fails_the_job(storage_url: str) -> None:
    runner = GatedRunner()
    async with serve(ml_service(storage_url, runner=runner).build()) as client:
        runner.release.set()
        model_id = await trained_model(client, await create_config(client))
        runner.reset()
        submitted = (await predict(client, model_id)).json()
        await runner.entered.wait()
        assert (await client.delete(f"/api/v1/artifacts/{model_id}")).status_code == 204
        runner.release.set()
        record = await failed_job(client, submitted["job_id"])
        assert "deleted" in record["error"]
        assert await artifact_ids(client) == []


async def test_a_sqlite_file_keeps_what_was_stored_when_a_job_fails(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ml.db'}"
    runner = FunctionalModelRunner(on_train=lambda config, data, geo: None, on_predict=predict_slope)
    async with serve(ml_service(url).build()) as client:
        config_id = await create_config(client)
        model_id = await trained_model(client, config_id)
    async with serve(ml_service(url, runner=runner).build()) as client:
        await failed_job(client, (await train(client, config_id))["job_id"])
        assert await artifact_ids(client) == [model_id]
