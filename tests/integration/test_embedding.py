"""One scenario suite, run through the embedding API and over HTTP: same stored artifacts, same errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import httpx
import pandas as pd
import pytest
from ulid import ULID

from chapkit import (
    ChapkitException,
    ChapkitService,
    ModelRequirements,
    NotFoundError,
    PredictionArtifactData,
    PredictRequest,
    TaskIn,
    TaskRegistry,
    TrainRequest,
)
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import (
    FUTURE,
    HIERARCHY,
    TRAIN_DATA,
    SlopeConfig,
    ml_service,
    slope_runner,
    wait_for_job,
)


class Driver(Protocol):
    async def create_config(self, name: str, data: dict[str, Any]) -> str: ...
    async def get_config(self, config_id: str) -> dict[str, Any]: ...
    async def delete_artifact(self, artifact_id: str) -> None: ...
    async def train(self, config_id: str) -> dict[str, Any]: ...
    async def predict(self, model_id: str) -> dict[str, Any]: ...
    async def get_job(self, job_id: str) -> dict[str, Any]: ...


class Embedded:
    def __init__(self, service: ChapkitService) -> None:
        self.service = service

    async def create_config(self, name: str, data: dict[str, Any]) -> str:
        return str((await self.service.configs.create(name, data)).id)

    async def get_config(self, config_id: str) -> dict[str, Any]:
        return (await self.service.configs.get(ULID.from_str(config_id))).model_dump(mode="json")

    async def delete_artifact(self, artifact_id: str) -> None:
        await self.service.artifacts.delete(ULID.from_str(artifact_id))

    async def train(self, config_id: str) -> dict[str, Any]:
        request = TrainRequest.model_validate({"config_id": config_id, "data": TRAIN_DATA})
        return (await self.service.ml.train_and_wait(request, timeout=30)).model_dump(mode="json")

    async def predict(self, model_id: str) -> dict[str, Any]:
        request = PredictRequest.model_validate(
            {"model_artifact_id": model_id, "historic": TRAIN_DATA, "future": FUTURE}
        )
        return (await self.service.ml.predict_and_wait(request, timeout=30)).model_dump(mode="json")

    async def get_job(self, job_id: str) -> dict[str, Any]:
        return (await self.service.jobs.get(ULID.from_str(job_id))).model_dump(mode="json")


def _raise_problem(response: httpx.Response) -> None:
    """Turn a problem response back into the error the embedding API raises."""
    if response.status_code == 404:
        raise NotFoundError(response.json()["detail"])
    if response.status_code >= 400:
        raise ChapkitException(response.json()["detail"], status=response.status_code)


class OverHttp:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def create_config(self, name: str, data: dict[str, Any]) -> str:
        response = await self.client.post("/api/v1/configs", json={"name": name, "data": data})
        _raise_problem(response)
        return str(response.json()["id"])

    async def get_config(self, config_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/configs/{config_id}")
        _raise_problem(response)
        return dict(response.json())

    async def delete_artifact(self, artifact_id: str) -> None:
        _raise_problem(await self.client.delete(f"/api/v1/artifacts/{artifact_id}"))

    async def _artifact_of_job(self, response: httpx.Response, key: str) -> dict[str, Any]:
        _raise_problem(response)
        job_id = response.json()["job_id"]
        record = await wait_for_job(self.client, job_id)
        artifact = await self.client.get(f"/api/v1/artifacts/{record['artifact_id']}")
        _raise_problem(artifact)
        assert record["artifact_id"] == response.json()[key]
        return dict(artifact.json())

    async def train(self, config_id: str) -> dict[str, Any]:
        response = await self.client.post("/api/v1/ml/$train", json={"config_id": config_id, "data": TRAIN_DATA})
        return await self._artifact_of_job(response, "model_artifact_id")

    async def predict(self, model_id: str) -> dict[str, Any]:
        body = {"model_artifact_id": model_id, "historic": TRAIN_DATA, "future": FUTURE}
        response = await self.client.post("/api/v1/ml/$predict", json=body)
        return await self._artifact_of_job(response, "prediction_artifact_id")

    async def get_job(self, job_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/api/v1/jobs/{job_id}")
        _raise_problem(response)
        return dict(response.json())


@asynccontextmanager
async def driver(kind: str, url: str) -> AsyncIterator[Driver]:
    if kind == "embedded":
        async with ChapkitService.open(url, config_schema=SlopeConfig, hierarchy=HIERARCHY, runner=slope_runner()) as s:
            yield Embedded(s)
    else:
        async with serve(ml_service(url).build()) as client:
            yield OverHttp(client)


@pytest.fixture(params=["memory", "sqlite_file"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory://" if request.param == "memory" else f"sqlite+aiosqlite:///{tmp_path / 'embed.db'}"


def _stored(artifact: dict[str, Any]) -> dict[str, Any]:
    """What an artifact stores, without the ids and times that differ from run to run."""
    varying = ("_id", "_at", "_seconds")
    data = {key: value for key, value in artifact["data"].items() if not key.endswith(varying)}
    return {"level": artifact["level"], "level_label": artifact.get("level_label"), "data": data}


async def scenario(drv: Driver) -> dict[str, Any]:
    """Create a config, train, predict, and hit the errors; return what was stored, comparable across drivers."""
    config_id = await drv.create_config("slope", {"scale": 2.0})
    config = await drv.get_config(config_id)
    errors = []
    for call in (drv.get_config(str(ULID())), drv.delete_artifact(str(ULID())), drv.get_job(str(ULID()))):
        with pytest.raises(NotFoundError) as caught:
            await call
        errors.append(caught.value.detail.split(" ")[0])
    model = await drv.train(config_id)
    prediction = await drv.predict(model["id"])
    assert prediction["parent_id"] == model["id"]
    return {
        "config": {"name": config["name"], "data": config["data"]},
        "errors": errors,
        "model": _stored(model),
        "prediction": _stored(prediction),
    }


async def test_the_embedding_api_and_http_store_the_same_and_fail_the_same(url: str, tmp_path: Path) -> None:
    async with driver("embedded", url) as embedded:
        through_python = await scenario(embedded)
    http_url = url if url == "memory://" else f"sqlite+aiosqlite:///{tmp_path / 'http.db'}"
    async with driver("http", http_url) as over_http:
        through_http = await scenario(over_http)
    assert through_python == through_http
    assert through_python["config"]["data"] == {"scale": 2.0}
    assert through_python["model"]["data"]["ml_type"] == "trained_model"
    assert through_python["prediction"]["data"]["predictions"]["data"] == [[4.0, 16.0], [5.0, 20.0]]


async def test_tasks_run_and_are_awaited_through_the_embedding_api(url: str) -> None:
    registry = TaskRegistry()
    registry.register_function("double", lambda value: value * 2)
    async with ChapkitService.open(url, hierarchy=HIERARCHY, task_registry=registry) as service:
        task = await service.tasks.create(TaskIn(command="double", task_type="python", parameters={"value": 21}))
        assert [t.id for t in await service.tasks.list()] == [task.id]
        result = await service.tasks.run(task.id, timeout=30)
        assert result.data["result"] == 42
        assert [job.status for job in await service.jobs.list()] == ["completed"]
        await service.tasks.delete(task.id)
        with pytest.raises(NotFoundError):
            await service.tasks.get(task.id)


def test_the_sync_facade_runs_the_same_use_cases(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'sync.db'}"
    with ChapkitService.open_sync(url, config_schema=SlopeConfig, hierarchy=HIERARCHY, runner=slope_runner()) as s:
        config = s.configs.create("slope", {"scale": 3.0})
        model = s.ml.train_and_wait(TrainRequest.model_validate({"config_id": str(config.id), "data": TRAIN_DATA}))
        assert s.artifacts.get(model.id).level == 0
        with pytest.raises(NotFoundError):
            s.configs.get(ULID())
    with ChapkitService.open_sync(url, config_schema=SlopeConfig) as reopened:
        assert [c.name for c in reopened.configs.list()] == ["slope"]
        with pytest.raises(RuntimeError, match="no model runner"):
            reopened.ml  # noqa: B018


async def test_forecast_speaks_the_newer_contract_and_predictions_reads_both_shapes() -> None:
    options: dict[str, Any] = {"config_schema": SlopeConfig, "hierarchy": HIERARCHY, "runner": slope_runner()}
    async with ChapkitService.open("memory://", requirements=ModelRequirements(target="y"), **options) as s:
        config = await s.configs.create("slope", {"scale": 2.0})
        model = await s.ml.train_and_wait(TrainRequest.model_validate({"config_id": config.id, "data": TRAIN_DATA}))
        future = pd.DataFrame({"time_period": ["2024-01", "2024-02"], "location": ["a", "a"], "x": [4.0, 5.0]})
        historic = pd.DataFrame({"x": [1.0], "y": [2.0]})
        with pytest.raises(ValueError, match="the predictions lack `location`"):
            await s.ml.forecast(model.id, historic, future.drop(columns=["location"]), timeout=30)
        forecast = await s.ml.forecast(model.id, historic, future, timeout=30)
        assert list(forecast.columns) == ["time_period", "location", "x", "y", "sample_0"]
        assert forecast["sample_0"].tolist() == [16.0, 20.0]
        stored = await s.artifacts.list()
        chap = next(artifact for artifact in stored if artifact.data.get("type") == "ml_prediction")
        assert s.ml.predictions(chap)["sample_0"].tolist() == [16.0, 20.0]
        request = PredictRequest.model_validate({"model_artifact_id": model.id, "historic": FUTURE, "future": FUTURE})
        reference = await s.ml.predict_and_wait(request, timeout=30)
        assert reference.data["ml_type"] == "prediction"
        # Stored as `PredictionArtifactData.model_dump()` gives it (its rows are not copied to get there).
        as_dumped = PredictionArtifactData.model_validate(reference.data).model_dump()
        assert list(reference.data.items()) == list(as_dumped.items())
        assert s.ml.predictions(reference)["y"].tolist() == [16.0, 20.0]
        with pytest.raises(ValueError, match="holds no predictions"):
            s.ml.predictions(model)
