"""One scenario, two ways in: over HTTP and through `ChapkitService`, with identical results.

Both drive the same application services (configs, artifacts, tasks, jobs, ML). Each step's result is
reduced to what does not depend on the run (no ids, no times) and the two transcripts must be equal,
errors included: an unknown id is a `NotFoundError` (404), a taken id or an unknown parent a
`ConflictError` (409).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import httpx
import pytest
from ulid import ULID

from chapkit import (
    ChapkitService,
    ConflictError,
    NotFoundError,
    PandasDataFrame,
    PredictRequest,
    TaskIn,
    TaskRegistry,
    TrainRequest,
)
from tests.conftest import backend_url
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import (
    FUTURE,
    HIERARCHY,
    ML,
    TRAIN_DATA,
    SlopeConfig,
    ml_service,
    slope_runner,
    wait_for_job,
)

UNKNOWN = str(ULID.from_str("01K0000000000000000000000Z"))
VOLATILE = {"id", "config_id", "parent_id", "artifact_id", "model_artifact_id", "duration_seconds"}


def stable(value: Any) -> Any:
    """`value` without what differs between runs: ids, times and durations."""
    if isinstance(value, dict):
        return {
            key: stable(item) for key, item in sorted(value.items()) if key not in VOLATILE and not key.endswith("_at")
        }
    if isinstance(value, list):
        return [stable(item) for item in value]
    return value


class Driver(Protocol):
    """The scenario's steps; each returns JSON-like data, or `error <status>`."""

    async def create_config(self, name: str, scale: float, id: str | None = None) -> Any: ...
    async def get_config(self, config_id: str) -> Any: ...
    async def list_configs(self) -> Any: ...
    async def delete_config(self, config_id: str) -> Any: ...
    async def create_artifact(self, data: Any, parent_id: str | None = None) -> Any: ...
    async def tree(self, artifact_id: str) -> Any: ...
    async def train(self, config_id: str) -> Any: ...
    async def predict(self, model_id: str) -> Any: ...
    async def run_task(self, command: str) -> Any: ...


class Http:
    """The steps as requests to a served app."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    @staticmethod
    def answer(response: httpx.Response) -> Any:
        if response.status_code in (404, 409):
            return f"error {response.status_code}"
        assert response.status_code < 400, response.text
        return None if response.status_code == 204 else response.json()

    async def create_config(self, name: str, scale: float, id: str | None = None) -> Any:
        body: dict[str, Any] = {"name": name, "data": {"scale": scale}}
        if id is not None:
            body["id"] = id
        return self.answer(await self.client.post("/api/v1/configs", json=body))

    async def get_config(self, config_id: str) -> Any:
        return self.answer(await self.client.get(f"/api/v1/configs/{config_id}"))

    async def list_configs(self) -> Any:
        return self.answer(await self.client.get("/api/v1/configs"))

    async def delete_config(self, config_id: str) -> Any:
        return self.answer(await self.client.delete(f"/api/v1/configs/{config_id}"))

    async def create_artifact(self, data: Any, parent_id: str | None = None) -> Any:
        body = {"data": data, "parent_id": parent_id}
        return self.answer(await self.client.post("/api/v1/artifacts", json=body))

    async def tree(self, artifact_id: str) -> Any:
        return self.answer(await self.client.get(f"/api/v1/artifacts/{artifact_id}/$tree"))

    async def _job_artifact(self, job_id: str) -> Any:
        record = await wait_for_job(self.client, job_id)
        assert record["status"] == "completed", record["error"]
        return self.answer(await self.client.get(f"/api/v1/artifacts/{record['artifact_id']}"))

    async def train(self, config_id: str) -> Any:
        submitted = self.answer(
            await self.client.post(f"{ML}/$train", json={"config_id": config_id, "data": TRAIN_DATA})
        )
        return await self._job_artifact(submitted["job_id"])

    async def predict(self, model_id: str) -> Any:
        body = {"model_artifact_id": model_id, "historic": TRAIN_DATA, "future": FUTURE}
        submitted = self.answer(await self.client.post(f"{ML}/$predict", json=body))
        return await self._job_artifact(submitted["job_id"])

    async def run_task(self, command: str) -> Any:
        task = self.answer(await self.client.post("/api/v1/tasks", json={"command": command}))
        submitted = self.answer(await self.client.post(f"/api/v1/tasks/{task['id']}/$execute"))
        return await self._job_artifact(submitted["job_id"])


class Embedded:
    """The steps as calls to `ChapkitService`; domain errors become the status the HTTP adapter gives them."""

    def __init__(self, service: ChapkitService) -> None:
        self.service = service

    @staticmethod
    async def answer(call: Any) -> Any:
        try:
            result = await call
        except (NotFoundError, ConflictError) as error:
            return f"error {error.status}"
        if result is None:
            return None
        if isinstance(result, list):
            return [item.model_dump(mode="json") for item in result]
        return result.model_dump(mode="json")

    async def create_config(self, name: str, scale: float, id: str | None = None) -> Any:
        config_id = ULID.from_str(id) if id is not None else None
        return await self.answer(self.service.configs.create(name, {"scale": scale}, id=config_id))

    async def get_config(self, config_id: str) -> Any:
        return await self.answer(self.service.configs.get(ULID.from_str(config_id)))

    async def list_configs(self) -> Any:
        return await self.answer(self.service.configs.list())

    async def delete_config(self, config_id: str) -> Any:
        return await self.answer(self.service.configs.delete(ULID.from_str(config_id)))

    async def create_artifact(self, data: Any, parent_id: str | None = None) -> Any:
        parent = ULID.from_str(parent_id) if parent_id is not None else None
        return await self.answer(self.service.artifacts.create(data, parent_id=parent))

    async def tree(self, artifact_id: str) -> Any:
        return await self.answer(self.service.artifacts.tree(ULID.from_str(artifact_id)))

    async def train(self, config_id: str) -> Any:
        request = TrainRequest(config_id=ULID.from_str(config_id), data=PandasDataFrame.model_validate(TRAIN_DATA))
        return await self.answer(self.service.ml.train_and_wait(request))

    async def predict(self, model_id: str) -> Any:
        request = PredictRequest.model_validate(
            {"model_artifact_id": model_id, "historic": TRAIN_DATA, "future": FUTURE}
        )
        return await self.answer(self.service.ml.predict_and_wait(request))

    async def run_task(self, command: str) -> Any:
        task = await self.service.tasks.create(TaskIn(command=command))
        return await self.answer(self.service.tasks.run(task.id))


async def scenario(driver: Driver) -> list[Any]:
    """Configs, errors, an artifact tree, a trained model, its prediction, a task run, a cascading delete."""
    transcript: list[Any] = []
    config = await driver.create_config("baseline", 2.0)
    transcript.append(config)
    transcript.append(await driver.create_config("again", 1.0, id=config["id"]))
    transcript.append(await driver.get_config(UNKNOWN))
    transcript.append(await driver.delete_config(UNKNOWN))
    root = await driver.create_artifact({"kind": "notes"})
    child = await driver.create_artifact([1, 2, 3], parent_id=root["id"])
    transcript += [root, child, await driver.tree(root["id"]), await driver.tree(UNKNOWN)]
    transcript.append(await driver.create_artifact("orphan", parent_id=UNKNOWN))
    model = await driver.train(config["id"])
    transcript.append(model)
    transcript.append(await driver.predict(model["id"]))
    transcript.append((await driver.run_task("echo scenario"))["data"]["stdout"])
    transcript.append(await driver.delete_config(config["id"]))
    transcript.append(await driver.tree(model["id"]))
    ours = {"baseline", "again"}  # the database may hold other tests' configs
    transcript.append([c for c in await driver.list_configs() if c["name"] in ours])
    return [stable(step) for step in transcript]


@asynccontextmanager
async def http_driver(url: str) -> AsyncIterator[Http]:
    app = ml_service(url).with_tasks(registry=TaskRegistry()).build()
    async with serve(app) as client:
        yield Http(client)


@asynccontextmanager
async def embedded_driver(url: str) -> AsyncIterator[Embedded]:
    runner = slope_runner()
    async with ChapkitService.open(url, config_schema=SlopeConfig, hierarchy=HIERARCHY, runner=runner) as service:
        yield Embedded(service)


async def test_the_scenario_gives_the_same_results_over_http_and_embedded(
    request: pytest.FixtureRequest, backend: str
) -> None:
    async with http_driver(backend_url(request, backend)) as over_http:
        served = await scenario(over_http)
    async with embedded_driver(backend_url(request, backend)) as embedded:
        direct = await scenario(embedded)
    assert served == direct
    assert served[1] == "error 409" and served[2] == served[3] == "error 404"
    assert served[8] == "error 409"  # an unknown parent
    assert served[10]["data"]["predictions"]["data"] == [[4.0, 16.0], [5.0, 20.0]]  # slope 2 x scale 2
    assert served[11] == "scenario\n"
    assert served[-2] == "error 404"  # the model went with its config
    assert served[-1] == []
