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


async def failed_with(client: httpx.AsyncClient, response: httpx.Response) -> str:
    """A well-formed request is accepted (202) and its job fails: the job's error (D14, rule 9 of issue 19)."""
    assert response.status_code == 202, response.text
    return str((await failed_job(client, response.json()["job_id"]))["error"])


# ---------------------------------------------------------------- unknown or wrong ids


async def test_unknown_config_is_202_then_a_failed_job_saying_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{ML}/$train", json={"config_id": "01K0000000000000000000000Z", "data": TRAIN_DATA})
    assert "Config 01K0000000000000000000000Z not found" in await failed_with(client, response)
    assert await artifact_ids(client) == []


async def test_unknown_model_is_202_then_a_failed_job_saying_not_found(client: httpx.AsyncClient) -> None:
    error = await failed_with(client, await predict(client, "01K0000000000000000000000Z"))
    assert "Training artifact 01K0000000000000000000000Z not found" in error
    chap = {"artifact_id": "01K0000000000000000000000Z", "historic": FUTURE, "future": FUTURE}
    assert "not found" in await failed_with(client, await client.post(f"{ML}/$predict", json=chap))
    assert await artifact_ids(client) == []


async def test_a_prediction_id_instead_of_a_model_id_fails_the_job(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    model_id = await trained_model(client, config_id)
    submitted = (await predict(client, model_id)).json()
    await wait_for_job(client, submitted["job_id"])
    prediction_id = submitted["prediction_artifact_id"]
    error = await failed_with(client, await predict(client, prediction_id))
    assert "a prediction artifact, not a training artifact" in error
    plain = (await client.post("/api/v1/artifacts", json={"data": {"weights": [1]}})).json()["id"]
    assert "not a training artifact" in await failed_with(client, await predict(client, plain))
    assert len(await artifact_ids(client)) == 3
    check = {"type": "predict", "model_artifact_id": plain, "historic": FUTURE, "future": FUTURE}
    answer = (await client.post(f"{ML}/$validate", json=check)).json()
    assert ("invalid_training_artifact", "model_artifact_id") in {
        (item["code"], item["field"]) for item in answer["diagnostics"]
    }


async def test_both_spellings_of_the_model_id_are_422(client: httpx.AsyncClient) -> None:
    body = {"artifact_id": "01K0000000000000000000000Z", "model_artifact_id": "01K0000000000000000000000Z"}
    response = await client.post(f"{ML}/$predict", json={**body, "historic": FUTURE, "future": FUTURE})
    assert response.status_code == 422 and "not both" in response.text
    assert (await client.get("/api/v1/jobs")).json() == []


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


async def test_a_config_of_another_service_fails_the_job(shared_url: str) -> None:
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
        response = await client.post(f"{ML}/$train", json={"config_id": foreign_id, "data": TRAIN_DATA})
        assert "does not fit this service's schema StrictConfig" in await failed_with(client, response)
        assert await artifact_ids(client) == []


# ---------------------------------------------------------------- data shapes


async def test_rows_that_do_not_fit_the_columns_fail_the_job(client: httpx.AsyncClient) -> None:
    """The schema cannot say that every row has one value per column: such a frame is data the model cannot use."""
    config_id = await create_config(client)
    model_id = await trained_model(client, config_id)
    before = await artifact_ids(client)
    ragged = frame(["x", "y"], [[1.0, 2.0], [3.0], [4.0, 5.0, 6.0]])
    error = await failed_with(client, await client.post(f"{ML}/$train", json={"config_id": config_id, "data": ragged}))
    assert "`data` has 2 column(s)" in error and "row 1 has 1, row 2 has 3" in error
    ragged_future = frame(["x", "location", "time_period"], [[4.0, "a"], [5.0, "a", "2024-01"]])
    assert "`future` has 3 column(s)" in await failed_with(client, await predict(client, model_id, ragged_future))
    newer = await predict(client, model_id, run_info={"prediction_periods": 2}, historic=ragged)
    assert "`historic` has 2 column(s)" in await failed_with(client, newer)
    assert await artifact_ids(client) == before
    check = {"type": "train", "config_id": config_id, "data": ragged}
    answer = (await client.post(f"{ML}/$validate", json=check)).json()
    assert answer["valid"] is False
    assert [(item["code"], item["field"]) for item in answer["diagnostics"]] == [("row_length_mismatch", "data")]
    repeated = {"config_id": config_id, "data": frame(["x", "x"], [[1.0, 2.0]])}
    assert (await client.post(f"{ML}/$train", json=repeated)).status_code == 422  # the schema says: unique
    assert (await client.post(f"{ML}/$train", json={**repeated, "data": frame(["x", "x"], [[1.0]])})).status_code == 422


async def test_empty_frames_fail_the_job_and_an_empty_historic_stays_valid(client: httpx.AsyncClient) -> None:
    config_id = await create_config(client)
    response = await client.post(f"{ML}/$train", json={"config_id": config_id, "data": frame(["x", "y"], [])})
    assert "`data` has no rows" in await failed_with(client, response)
    model_id = await trained_model(client, config_id)
    assert "`future` has no rows" in await failed_with(client, await predict(client, model_id, future=frame(["x"], [])))
    empty_history = await predict(client, model_id, historic=frame(["x", "y"], []))
    assert (await wait_for_job(client, empty_history.json()["job_id"]))["status"] == "completed"


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


@pytest.mark.slow
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


async def test_requests_that_break_the_declared_requirements_fail_their_jobs(storage_url: str) -> None:
    async with serve(ml_service(storage_url, info=REQUIRING).build()) as client:
        config_id = await create_config(client)

        async def refused(data: dict[str, Any], geo: Any = GEO) -> str:
            response = await client.post(f"{ML}/$train", json={"config_id": config_id, "data": data, "geo": geo})
            return await failed_with(client, response)

        good = frame(["time_period", "location", "x", "y"], [["2024-W01", "oslo", 1.0, 2.0]])
        assert "`data` lacks the required column `x`" in await refused(frame(["y"], [[1.0]]))
        assert "needs `geo`" in await refused(good, geo=None)
        assert "'wet'" in await refused(frame(["x", "y"], [["wet", 1.0]]))
        assert "must hold weeks" in await refused(frame(["time_period", "x", "y"], [["2024-01", 1.0, 2.0]]))
        assert "'bergen'" in await refused(frame(["location", "x", "y"], [["bergen", 1.0, 2.0]]))

        submitted = await client.post(f"{ML}/$train", json={"config_id": config_id, "data": good, "geo": GEO})
        assert submitted.status_code == 202, submitted.text
        assert (await wait_for_job(client, submitted.json()["job_id"]))["status"] == "completed"
        model_id = submitted.json()["model_artifact_id"]
        periods = [["2024-W02", 1.0], ["2024-W03", 2.0], ["2024-W04", 3.0]]
        too_many = await predict(client, model_id, future=frame(["time_period", "x"], periods), geo=GEO)
        assert "exceeds the maximum this model predicts (2)" in await failed_with(client, too_many)

        check = {"type": "train", "config_id": config_id, "data": frame(["y"], [[None]])}
        answer = (await client.post(f"{ML}/$validate", json=check)).json()
        assert answer["valid"] is False
        assert {(d["severity"], d["code"], d["field"]) for d in answer["diagnostics"]} == {
            ("error", "missing_covariate", "data.x"),
            ("error", "geo_required", "geo"),
        }
        unknown = {"type": "predict", "model_artifact_id": "01K0000000000000000000000Z", "historic": FUTURE}
        answer = (await client.post(f"{ML}/$validate", json={**unknown, "future": FUTURE, "geo": GEO})).json()
        found = {(d["code"], d["field"]) for d in answer["diagnostics"]}
        assert ("training_artifact_not_found", "model_artifact_id") in found
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
