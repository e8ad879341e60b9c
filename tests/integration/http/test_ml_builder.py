"""Building ML services: `with_ml` checks, `get_ml_manager`, metrics, the public names, and plain Python."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends
from ulid import ULID

import chapkit
import chapkit.api
from chapkit import MLManager, MLServiceInfo, ServiceBuilder, ServiceInfo, TrainRequest, get_ml_manager
from chapkit.embedding import open_storage
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import HIERARCHY, ML, TRAIN_DATA, SlopeConfig, ml_service, slope_runner


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("config", r"Call `with_config\(...\)` before `with_ml\(...\)`"),
        ("artifacts", r"Call `with_artifacts\(...\)` before `with_ml\(...\)`"),
        ("jobs", r"Call `with_jobs\(...\)` before `with_ml\(...\)`"),
    ],
)
def test_with_ml_needs_config_artifacts_and_jobs(missing: str, message: str) -> None:
    builder = ServiceBuilder(info=ServiceInfo(display_name="x"))
    if missing != "config":
        builder.with_config(SlopeConfig)
    if missing != "artifacts":
        builder.with_artifacts(hierarchy=HIERARCHY)
    if missing != "jobs":
        builder.with_jobs()
    with pytest.raises(ValueError, match=message):
        builder.with_ml(slope_runner()).build()


def test_with_ml_refuses_what_is_no_runner() -> None:
    with pytest.raises(TypeError, match="on_train"):
        ServiceBuilder(info=ServiceInfo(display_name="x")).with_ml(object())  # type: ignore[arg-type]


async def test_service_builder_with_ml_and_get_ml_manager_in_a_custom_router() -> None:
    router = APIRouter()

    @router.get("/runner")
    async def runner_name(manager: MLManager = Depends(get_ml_manager)) -> str:
        return type(manager.runner).__name__

    app = (
        ServiceBuilder(info=ServiceInfo(display_name="x"))
        .with_database("memory://")
        .with_config(SlopeConfig)
        .with_artifacts(hierarchy=HIERARCHY, enable_config_linking=True)
        .with_jobs()
        .with_ml(slope_runner(), prefix="/ml", tags=["Models"])
        .include_router(router)
        .build()
    )
    async with serve(app) as client:
        assert (await client.get("/runner")).json() == "FunctionalModelRunner"
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert {"/ml/$train", "/ml/$predict", "/ml/$validate"} <= set(paths)


async def test_get_ml_manager_without_ml_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match=r"with_ml\(\)"):
        await get_ml_manager()


async def test_submissions_are_counted_with_monitoring_on() -> None:
    app = ml_service("memory://").with_monitoring().build()
    async with serve(app) as client:
        config = (await client.post("/api/v1/configs", json={"name": "c", "data": {}})).json()["id"]
        assert (await client.post(f"{ML}/$train", json={"config_id": config, "data": TRAIN_DATA})).status_code == 202
        unknown = {"config_id": "01K0000000000000000000000Z", "data": TRAIN_DATA}
        assert (await client.post(f"{ML}/$train", json=unknown)).status_code == 202
        assert (await client.post(f"{ML}/$train", json={"data": TRAIN_DATA})).status_code == 422
        metrics = (await client.get("/metrics")).text
        counted = [line for line in metrics.splitlines() if line.startswith("ml_train_jobs_total{")]
        assert len(counted) == 1 and counted[0].endswith(" 2.0")


async def test_the_ml_manager_works_from_plain_python() -> None:
    async with open_storage("memory://") as storage:
        async with storage.unit_of_work(write=True) as uow:
            config = await storage.config_manager(uow, SlopeConfig).save(
                chapkit.ConfigIn[SlopeConfig](name="c", data=SlopeConfig(scale=3.0))
            )
        assert storage.scheduler is not None
        manager = storage.ml_manager(slope_runner(), SlopeConfig)
        submitted = await manager.execute_train(
            TrainRequest.model_validate({"config_id": config.id, "data": TRAIN_DATA})
        )
        await storage.scheduler.wait(ULID.from_str(submitted.job_id))
        async with storage.unit_of_work() as uow:
            model = await uow.artifacts.find_by_id(ULID.from_str(submitted.model_artifact_id))
        assert model is not None and model.data["model"] == {"slope": pytest.approx(6.0)}


async def test_ml_service_builder_switches_every_module_on() -> None:
    app = chapkit.MLServiceBuilder(
        info=MLServiceInfo(display_name="x"), config_schema=SlopeConfig, hierarchy=HIERARCHY, runner=slope_runner()
    ).build()
    async with serve(app) as client:
        response = await client.get("/health")
        assert response.status_code == 200 and "x-request-id" in response.headers  # request logging is on
        paths = set((await client.get("/openapi.json")).json()["paths"])
        assert {"/api/v1/configs/{entity_id}/$artifacts", "/api/v1/jobs", "/api/v1/system", f"{ML}/$train"} <= paths
        assert "text/html" in (await client.get("/")).headers["content-type"]


def test_the_openapi_document_of_an_ml_service_is_valid() -> None:
    from openapi_spec_validator import validate

    document = ml_service("memory://").build().openapi()
    validate(document)
    assert document["paths"][f"{ML}/$train"]["post"]["responses"]["202"]
