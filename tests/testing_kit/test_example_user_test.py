"""The example test a user copies (README, "Embedding and testing"): the chapkit pytest plugin's fixtures."""

from typing import Any

import pytest

from chapkit import ArtifactHierarchy, BaseConfig, MLServiceBuilder, MLServiceInfo, NotFoundError, TrainRequest
from chapkit.testing import wait_for_job
from tests.integration.http.ml_support import TRAIN_DATA, slope_runner

HIERARCHY = ArtifactHierarchy(name="slope", level_labels={0: "trained_model", 1: "prediction"})


class SlopeConfig(BaseConfig):
    scale: float = 1.0


def build_app(url: str = "memory://") -> Any:
    return MLServiceBuilder(
        info=MLServiceInfo(display_name="Slope"),
        config_schema=SlopeConfig,
        hierarchy=HIERARCHY,
        runner=slope_runner(),
        database_url=url,
    ).build()


@pytest.fixture
def chapkit_service_options() -> dict[str, Any]:
    return {"config_schema": SlopeConfig, "hierarchy": HIERARCHY, "runner": slope_runner()}


async def test_train_in_memory(chapkit_service: Any) -> None:
    config = await chapkit_service.configs.create("slope", {"scale": 2.0})
    model = await chapkit_service.ml.train_and_wait(TrainRequest(config_id=config.id, data=TRAIN_DATA))
    assert model.data["ml_type"] == "trained_model"
    with pytest.raises(NotFoundError):
        await chapkit_service.configs.get(model.id)


async def test_train_over_http(chapkit_client: Any) -> None:
    client = await chapkit_client(build_app())
    config = (await client.post("/api/v1/configs", json={"name": "slope", "data": {"scale": 2.0}})).json()
    submitted = await client.post("/api/v1/ml/$train", json={"config_id": config["id"], "data": TRAIN_DATA})
    record = await wait_for_job(client, submitted.json()["job_id"])
    assert record["status"] == "completed"
    assert (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).status_code == 200


async def test_wait_for_job_takes_the_service_too(chapkit_service: Any) -> None:
    config = await chapkit_service.configs.create("slope", {"scale": 1.0})
    submitted = await chapkit_service.ml.train(TrainRequest(config_id=config.id, data=TRAIN_DATA))
    record = await wait_for_job(chapkit_service, submitted.job_id)
    assert record.status == "completed"
