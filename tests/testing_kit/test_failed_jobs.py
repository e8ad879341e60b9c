"""A failed job's wait returns its record (status and error), through the testing kit and the embedding API.

`result` (and so `train_and_wait`, `forecast`) raises the job's own error instead: the model's exception.
"""

from typing import Any

import pandas as pd
import pytest
from ulid import ULID

from chapkit import (
    ArtifactHierarchy,
    BaseConfig,
    FunctionalModelRunner,
    JobFailedError,
    MLServiceBuilder,
    MLServiceInfo,
    TrainRequest,
)
from chapkit.testing import wait_for_job
from tests.integration.http.ml_support import TRAIN_DATA

HIERARCHY = ArtifactHierarchy(name="failing", level_labels={0: "trained_model", 1: "prediction"})


def refuse(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> Any:
    raise ValueError("no usable rainfall (marker 9d1f)")


def runner() -> FunctionalModelRunner[BaseConfig]:
    return FunctionalModelRunner(on_train=refuse, on_predict=refuse)


@pytest.fixture
def chapkit_service_options() -> dict[str, Any]:
    return {"config_schema": BaseConfig, "hierarchy": HIERARCHY, "runner": runner()}


async def test_over_http_the_failed_record_is_returned(chapkit_client: Any) -> None:
    app = MLServiceBuilder(
        info=MLServiceInfo(display_name="Failing"),
        config_schema=BaseConfig,
        hierarchy=HIERARCHY,
        runner=runner(),
        database_url="memory://",
    ).build()
    client = await chapkit_client(app)
    config = (await client.post("/api/v1/configs", json={"name": "c", "data": {}})).json()
    submitted = await client.post("/api/v1/ml/$train", json={"config_id": config["id"], "data": TRAIN_DATA})
    record = await wait_for_job(client, submitted.json()["job_id"])
    assert record["status"] == "failed"
    assert "marker 9d1f" in record["error"]


async def test_in_the_embedding_api_wait_returns_it_and_result_raises_the_job_s_error(chapkit_service: Any) -> None:
    config = await chapkit_service.configs.create("c", {})
    submitted = await chapkit_service.ml.train(TrainRequest(config_id=config.id, data=TRAIN_DATA))
    job_id = ULID.from_str(submitted.job_id)
    record = await chapkit_service.jobs.wait(job_id)
    assert record.status == "failed" and "marker 9d1f" in (record.error or "")
    with pytest.raises(ValueError, match="marker 9d1f") as raised:
        await chapkit_service.jobs.result(job_id)
    assert not isinstance(raised.value, JobFailedError)  # that one is for a canceled job
