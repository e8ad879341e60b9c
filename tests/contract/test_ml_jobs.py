"""One `$train` and one `$predict` job on every backend: how often each touches the storage, the schema and pickle.

A train job reads and validates its config once (one read unit), pickles the model once, and stores the
model linked to its config in one write unit that commits once; a predict job reads its model and config
once (one read unit) and stores the prediction in one write unit. The counts come from a unit-of-work
factory that counts what it opens, repositories whose reads are counted, a config schema that counts
its validations and a model that counts how often it is reduced (pickled or copied).
"""

from __future__ import annotations

import contextlib
import pickle
from collections import Counter
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar

import pandas as pd
import pytest
from pydantic import model_validator
from sqlalchemy import text
from ulid import ULID

from chapkit import (
    BaseConfig,
    Config,
    FunctionalModelRunner,
    JobStatus,
    MLManager,
    PredictRequest,
    TrainRequest,
    TrainResult,
)
from chapkit.adapters.memory import InMemoryDatastore
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ports import UnitOfWork
from chapkit.embedding import Storage


class CountedConfig(BaseConfig):
    """A config schema that counts how often data is validated into it."""

    scale: float = 1.0
    validations: ClassVar[Counter[str]] = Counter()

    @model_validator(mode="before")
    @classmethod
    def _count(cls, data: Any) -> Any:
        cls.validations["config"] += 1
        return data


class CountedModel:
    """A trained model that counts how often it is reduced: by `pickle.dumps` or by a deep copy."""

    reduced = 0

    def __init__(self, slope: float) -> None:
        self.slope = slope

    def __reduce__(self) -> tuple[Callable[..., CountedModel], tuple[float]]:
        type(self).reduced += 1
        return CountedModel, (self.slope,)


def train(config: CountedConfig, data: pd.DataFrame, geo: Any = None) -> CountedModel:
    return CountedModel(float((data["x"] * data["y"]).sum() / (data["x"] * data["x"]).sum()) * config.scale)


def predict(
    config: CountedConfig, model: CountedModel, historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    return future.assign(disease_cases=future["x"] * model.slope)


class _CountedUnit:
    """A unit of work as the manager gets it, counting its opening, commits and the reads of its repositories."""

    def __init__(self, unit: UnitOfWork, write: bool, counts: Counter[str]) -> None:
        self.unit = unit
        self.write = write
        self.counts = counts

    async def __aenter__(self) -> UnitOfWork:
        self.counts["write units" if self.write else "read units"] += 1
        uow = await self.unit.__aenter__()
        self._count(uow.configs, "find_by_id", "config reads")
        self._count(uow.artifacts, "find_by_id", "artifact reads")
        self._count(uow, "commit", "commits")
        return uow

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.unit.__aexit__(exc_type, exc, traceback)

    def _count(self, target: object, method: str, name: str) -> None:
        original = getattr(target, method)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[name] += 1
            return await original(*args, **kwargs)

        setattr(target, method, counted)


def counted_manager(storage: Storage, counts: Counter[str], train: Callable[..., Any] = train) -> MLManager:
    def unit_of_work(*, write: bool = False) -> Any:
        return _CountedUnit(storage.unit_of_work(write=write), write, counts)

    assert storage.scheduler is not None
    runner = FunctionalModelRunner(on_train=train, on_predict=predict)
    return MLManager(runner, storage.scheduler, storage.database, CountedConfig, unit_of_work=unit_of_work)


def frame(columns: list[str], rows: list[list[Any]]) -> PandasDataFrame:
    return PandasDataFrame(columns=columns, data=rows)


TRAIN_DATA = frame(["x", "y"], [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
FUTURE = frame(["time_period", "location", "x"], [["2024-01", "a", 4.0], ["2024-02", "a", 5.0]])


async def stored_config(storage: Storage, **data: Any) -> ULID:
    async with storage.unit_of_work(write=True) as uow:
        config = await uow.configs.save(Config(name="counted", data=data))
        await uow.commit()
    assert config.id is not None
    return config.id


async def finished(storage: Storage, job_id: str) -> Any:
    assert storage.scheduler is not None
    with contextlib.suppress(Exception):  # the record says how it failed
        await storage.scheduler.wait(ULID.from_str(job_id), timeout=30)
    return await storage.scheduler.get_record(ULID.from_str(job_id))


def reset() -> None:
    CountedConfig.validations.clear()
    CountedModel.reduced = 0


async def trained_model(storage: Storage, manager: MLManager, config_id: ULID) -> str:
    response = await manager.execute_train(TrainRequest(config_id=config_id, data=TRAIN_DATA))
    record = await finished(storage, response.job_id)
    assert record.status == JobStatus.completed, record.error
    return response.model_artifact_id


async def test_train_reads_and_validates_the_config_once_and_pickles_the_model_once(storage: Storage) -> None:
    config_id = await stored_config(storage, scale=2.0)
    counts: Counter[str] = Counter()
    manager = counted_manager(storage, counts)
    reset()

    # `run_info` gives a horizon, so the model's config differs from the stored one: still one validation.
    request = TrainRequest.model_validate(
        {"config_id": config_id, "data": TRAIN_DATA, "run_info": {"prediction_periods": 3}}
    )
    response = await manager.execute_train(request)
    record = await finished(storage, response.job_id)

    assert record.status == JobStatus.completed, record.error
    assert record.artifact_id == ULID.from_str(response.model_artifact_id)
    assert counts == {"read units": 1, "config reads": 1, "write units": 1, "commits": 1}
    assert CountedConfig.validations["config"] == 1
    assert CountedModel.reduced == 1
    async with storage.unit_of_work() as uow:
        artifact = await uow.artifacts.find_by_id(record.artifact_id)
        linked = await uow.configs.find_by_root_artifact_id(record.artifact_id)
    assert artifact is not None and linked is not None and linked.id == config_id
    model = artifact.data["model"]
    assert isinstance(model, CountedModel) and model.slope == 4.0
    assert artifact.data["model_size_bytes"] == len(pickle.dumps(CountedModel(4.0), protocol=4))
    assert artifact.data["model_type"].endswith("CountedModel")


async def test_the_stored_model_reads_back_with_plain_pickle(storage: Storage) -> None:
    """What SQL stores is the reference's shape: any reader (an older chapkit too) unpickles it, the model inside."""
    engine = getattr(storage.database, "engine", None)
    if engine is None:
        pytest.skip("the memory adapter keeps no bytes")
    manager = counted_manager(storage, Counter())
    model_id = await trained_model(storage, manager, await stored_config(storage, scale=1.0))

    async with engine.connect() as connection:
        raw = await connection.scalar(text("SELECT data FROM artifacts WHERE id = :id"), {"id": model_id})

    assert isinstance(raw, bytes) and b"chapkit" not in raw  # nothing of chapkit's is needed to read it
    data = pickle.loads(raw)
    assert isinstance(data["model"], CountedModel) and data["model"].slope == 2.0
    assert data["ml_type"] == "trained_model" and data["model_size_bytes"] == len(pickle.dumps(data["model"], 4))


async def test_predict_reads_the_model_and_its_config_once(storage: Storage) -> None:
    config_id = await stored_config(storage, scale=1.0)
    counts: Counter[str] = Counter()
    manager = counted_manager(storage, counts)
    model_id = await trained_model(storage, manager, config_id)
    counts.clear()
    reset()

    request = PredictRequest.model_validate(
        {"artifact_id": model_id, "historic": TRAIN_DATA, "future": FUTURE, "run_info": {"prediction_periods": 2}}
    )
    response = await manager.execute_predict(request)
    record = await finished(storage, response.job_id)

    assert record.status == JobStatus.completed, record.error
    assert record.artifact_id == ULID.from_str(response.prediction_artifact_id)
    assert counts == {"read units": 1, "artifact reads": 1, "config reads": 1, "write units": 1, "commits": 1}
    assert CountedConfig.validations["config"] == 1
    # Predicting never pickles the model; the memory adapter's one read copies it (every read is a copy).
    assert CountedModel.reduced == (1 if isinstance(storage.database, InMemoryDatastore) else 0)


async def test_a_config_deleted_while_training_fails_the_job_and_stores_nothing(storage: Storage) -> None:
    config_id = await stored_config(storage, scale=1.0)

    async def train_then_delete_the_config(config: CountedConfig, data: pd.DataFrame, geo: Any = None) -> Any:
        async with storage.unit_of_work(write=True) as uow:
            await uow.configs.delete_by_id(config_id)
            await uow.commit()
        return CountedModel(1.0)

    counts: Counter[str] = Counter()
    manager = counted_manager(storage, counts, train=train_then_delete_the_config)
    response = await manager.execute_train(TrainRequest(config_id=config_id, data=TRAIN_DATA))
    record = await finished(storage, response.job_id)

    assert record.status == JobStatus.failed
    assert f"Config {config_id} not found" in (record.error or "")
    assert record.artifact_id is None
    assert counts == {"read units": 1, "config reads": 1, "write units": 1}
    async with storage.unit_of_work() as uow:
        assert await uow.artifacts.find_by_id(ULID.from_str(response.model_artifact_id)) is None
        assert await uow.artifacts.count() == 0


async def test_a_model_reported_with_metrics_is_pickled_once_and_its_metrics_stored_as_plain_data(
    storage: Storage,
) -> None:
    def train_with_metrics(config: CountedConfig, data: pd.DataFrame, geo: Any = None) -> TrainResult:
        return TrainResult(train(config, data, geo), metrics={"rmse": 0.5, "rows": len(data)})

    config_id = await stored_config(storage, scale=1.0)
    counts: Counter[str] = Counter()
    manager = counted_manager(storage, counts, train=train_with_metrics)
    reset()
    model_id = await trained_model(storage, manager, config_id)

    assert CountedModel.reduced == 1
    assert counts == {"read units": 1, "config reads": 1, "write units": 1, "commits": 1}
    async with storage.unit_of_work() as uow:
        artifact = await uow.artifacts.find_by_id(ULID.from_str(model_id))
    assert artifact is not None
    assert isinstance(artifact.data["model"], CountedModel) and artifact.data["model"].slope == 2.0
    assert artifact.data["model_type"].endswith("CountedModel")
    assert artifact.data["metrics"] == {"rmse": 0.5, "rows": 3.0}
    assert type(artifact.data["metrics"]["rows"]) is float
