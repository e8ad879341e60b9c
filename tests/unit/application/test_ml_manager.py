"""`MLManager` on the memory storage: which config a job's checks read and its model runs with.

The stored config is validated once, together with what the request sets in it (its horizon, its
covariates). A config that does not fit the schema is `config_invalid`; a config that fits, but not with
the horizon the request asks for (a config class with its own rule for `prediction_periods`), is checked
as stored, and the job fails with the schema's error before the model runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pandas as pd
import pytest
from pydantic import Field
from ulid import ULID

from chapkit import BaseConfig, Config, FunctionalModelRunner, JobRecord, JobStatus, MLManager, TrainRequest
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ml_checks import TrainValidation
from chapkit.embedding import Storage, open_storage

DATA = PandasDataFrame(columns=["x", "y"], data=[[1.0, 2.0], [2.0, 4.0]])


class Capped(BaseConfig):
    """A config class with a rule of its own for the horizon."""

    prediction_periods: int = Field(default=1, le=4)
    scale: float = 1.0


class Runs:
    def __init__(self) -> None:
        self.configs: list[BaseConfig] = []

    def train(self, config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
        self.configs.append(config)
        return {"scale": float(getattr(config, "scale", 1.0))}

    def predict(
        self, config: BaseConfig, model: Any, historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
    ) -> pd.DataFrame:
        return future


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    async with open_storage("memory://") as opened:
        yield opened


async def stored(storage: Storage, data: dict[str, Any]) -> ULID:
    async with storage.unit_of_work(write=True) as uow:
        config = await uow.configs.save(Config(name="c", data=data))
        await uow.commit()
    assert config.id is not None
    return config.id


def manager(storage: Storage, runs: Runs) -> MLManager:
    assert storage.scheduler is not None
    runner = FunctionalModelRunner(on_train=runs.train, on_predict=runs.predict)
    return MLManager(runner, storage.scheduler, storage.database, Capped)


async def train(storage: Storage, ml: MLManager, config_id: ULID, periods: int | None) -> JobRecord:
    run_info = None if periods is None else {"prediction_periods": periods}
    response = await ml.execute_train(
        TrainRequest.model_validate({"config_id": config_id, "data": DATA, "run_info": run_info})
    )
    assert storage.scheduler is not None
    job_id = ULID.from_str(response.job_id)
    with contextlib.suppress(Exception):  # a failed job re-raises its error here; its record says it
        await storage.scheduler.wait(job_id, timeout=10)
    return await storage.scheduler.get_record(job_id)


async def test_the_model_runs_with_the_stored_config_and_the_request_s_horizon(storage: Storage) -> None:
    runs = Runs()
    config_id = await stored(storage, {"prediction_periods": 2, "scale": 3.0})

    record = await train(storage, manager(storage, runs), config_id, 4)

    assert record.status == JobStatus.completed, record.error
    [config] = runs.configs
    assert isinstance(config, Capped) and config.prediction_periods == 4 and config.scale == 3.0
    async with storage.unit_of_work() as uow:
        kept = await uow.configs.find_by_id(config_id)
    assert kept is not None and kept.data == {"prediction_periods": 2, "scale": 3.0}


async def test_a_config_of_another_service_is_config_invalid(storage: Storage) -> None:
    runs = Runs()
    ml = manager(storage, runs)
    config_id = await stored(storage, {"scale": "not a number"})

    record = await train(storage, ml, config_id, 3)
    findings = await ml.validate(TrainValidation(type="train", config_id=config_id, data=DATA))

    assert record.status == JobStatus.failed and runs.configs == []
    assert f"Config {config_id} does not fit this service's schema Capped" in (record.error or "")
    assert [(d.code, d.field) for d in findings.diagnostics] == [("config_invalid", "config_id")]


async def test_a_horizon_the_config_class_refuses_fails_the_job_before_the_model_runs(storage: Storage) -> None:
    runs = Runs()
    ml = manager(storage, runs)
    config_id = await stored(storage, {"prediction_periods": 2})
    asked = TrainValidation.model_validate(
        {"type": "train", "config_id": config_id, "data": DATA, "run_info": {"prediction_periods": 6}}
    )

    record = await train(storage, ml, config_id, 6)
    findings = await ml.validate(asked)

    assert record.status == JobStatus.failed and runs.configs == []
    assert "prediction_periods" in (record.error_traceback or "")
    assert "less_than_equal" in (record.error_traceback or "")
    assert "does not fit this service's schema" not in (record.error_traceback or "")
    assert findings.valid  # the stored config fits; the checks have nothing against the request
    async with storage.unit_of_work() as uow:
        assert await uow.artifacts.count() == 0
