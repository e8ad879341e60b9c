"""Application services: one use case per method, each in its own transaction.

A service takes a unit-of-work factory (the container's, D21) and owns the transactions it opens: it
opens a unit, works through the managers, and the unit commits what the manager committed or discards
the rest when the block ends. The insert, delete and not-found rules live here once, and the HTTP
routers, `ChapkitService`, the testing kit, the CLI and the worker reach data through these services
(the routers through `manager(uow)`, which binds the request's unit to the service's manager).
Errors are the domain's: `NotFoundError` (404), `ConflictError` (409), `MLRequestError`, ...
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from ulid import ULID

from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.manager import Manager
from chapkit.application.ml_manager import MLManager, UnitOfWorkFactory
from chapkit.application.task_manager import TaskManager
from chapkit.domain.artifact import ArtifactHierarchy, ArtifactIn, ArtifactOut, ArtifactTreeNode
from chapkit.domain.config import BaseConfig, ConfigIn, ConfigOut
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.errors import ChapkitException, ConflictError, ErrorType, NotFoundError
from chapkit.domain.job_states import is_terminal
from chapkit.domain.jobs import JobRecord
from chapkit.domain.ml import (
    GeoFeatureCollection,
    PredictRequest,
    PredictResponse,
    RunInfo,
    TrainRequest,
    TrainResponse,
)
from chapkit.domain.ml_artifacts import prediction_frame
from chapkit.domain.ports import JobScheduler, UnitOfWork
from chapkit.domain.task import TaskIn, TaskOut

if TYPE_CHECKING:
    import pandas as pd

TaskManagerFactory = Callable[[UnitOfWork], TaskManager]
"""Builds the service's task manager on a unit (the container binds scheduler, hierarchy and registry)."""

_Out = TypeVar("_Out", bound=BaseModel)


class JobFailedError(ChapkitException):
    """A job ended without a result (failed or canceled); `record` is its final job record."""

    def __init__(self, record: JobRecord) -> None:
        super().__init__(
            f"Job {record.id} ended {record.status}: {record.error or 'no result'}",
            type_uri=ErrorType.BAD_REQUEST,
            title="Job did not complete",
            status=409,
        )
        self.record = record


def not_found(entity_id: object) -> NotFoundError:
    """The error for an unknown id, worded as the CRUD routes word it."""
    return NotFoundError(f"Entity with id {entity_id} not found")


async def insert_new(manager: Manager[Any, _Out, ULID], data: Any) -> _Out:
    """Insert `data`, as `POST` does (D14): `ConflictError` when its id is already stored."""
    if data.id is not None and await manager.exists_by_id(data.id):
        raise ConflictError(f"Entity with id {data.id} already exists")
    return await manager.save(data)


async def update_existing(manager: Manager[Any, _Out, ULID], data: Any) -> _Out:
    """Replace the stored entity `data.id`, as `PUT` does: `NotFoundError` for an unknown id."""
    if not await manager.exists_by_id(data.id):
        raise not_found(data.id)
    return await manager.save(data)


async def delete_existing(manager: Manager[Any, Any, ULID], entity_id: ULID) -> None:
    """Delete a stored entity, as `DELETE` does: `NotFoundError` for an unknown id."""
    if not await manager.exists_by_id(entity_id):
        raise not_found(entity_id)
    await manager.delete_by_id(entity_id)


def found(value: _Out | None, entity_id: object) -> _Out:
    """`value`, or `NotFoundError` for `entity_id` when there is none."""
    if value is None:
        raise not_found(entity_id)
    return value


def config_manager_on(uow: UnitOfWork, schema: type[BaseConfig] = BaseConfig) -> ConfigManager[BaseConfig]:
    """A config manager on the unit's configs, validating `data` into `schema`."""
    return ConfigManager[BaseConfig](uow.configs, schema)


def artifact_manager_on(
    uow: UnitOfWork, hierarchy: ArtifactHierarchy | None = None, include_config: bool = True
) -> ArtifactManager:
    """An artifact manager on the unit's artifacts (and its configs, for `$config`, when `include_config`)."""
    return ArtifactManager(uow.artifacts, hierarchy=hierarchy, config_repo=uow.configs if include_config else None)


class ConfigService:
    """Configs validated into the service's config schema."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, schema: type[BaseConfig] = BaseConfig) -> None:
        """Configs opened through `unit_of_work`, whose `data` is validated into `schema`."""
        self._unit_of_work = unit_of_work
        self.schema = schema

    def manager(self, uow: UnitOfWork) -> ConfigManager[BaseConfig]:
        """The config manager on `uow` (a request's unit, for the HTTP routes)."""
        return config_manager_on(uow, self.schema)

    async def create(
        self, name: str, data: BaseConfig | Mapping[str, Any], *, id: ULID | None = None
    ) -> ConfigOut[Any]:
        """Store a new config (`data` is validated into the schema); `ConflictError` when `id` is taken."""
        config_in = ConfigIn[self.schema].model_validate(  # type: ignore[name-defined]
            {"id": id, "name": name, "data": data.model_dump() if isinstance(data, BaseConfig) else dict(data)}
        )
        async with self._unit_of_work(write=True) as uow:
            return await insert_new(self.manager(uow), config_in)

    async def get(self, config_id: ULID) -> ConfigOut[Any]:
        """Return the config; `NotFoundError` for an unknown id."""
        async with self._unit_of_work() as uow:
            return found(await self.manager(uow).find_by_id(config_id), config_id)

    async def find_by_name(self, name: str) -> ConfigOut[Any] | None:
        """Return the config called `name`, or None."""
        async with self._unit_of_work() as uow:
            return await self.manager(uow).find_by_name(name)

    async def list(self) -> builtins.list[ConfigOut[Any]]:
        """Return every config."""
        async with self._unit_of_work() as uow:
            return await self.manager(uow).find_all()

    async def delete(self, config_id: ULID) -> None:
        """Delete the config; `NotFoundError` for an unknown id."""
        async with self._unit_of_work(write=True) as uow:
            await delete_existing(self.manager(uow), config_id)

    async def linked_artifacts(self, config_id: ULID) -> builtins.list[ArtifactOut]:
        """Return the root artifacts linked to the config."""
        async with self._unit_of_work() as uow:
            manager = self.manager(uow)
            if not await manager.exists_by_id(config_id):
                raise not_found(config_id)
            return await manager.get_linked_artifacts(config_id)


class ArtifactService:
    """Artifacts in the service's hierarchy."""

    def __init__(
        self, unit_of_work: UnitOfWorkFactory, hierarchy: ArtifactHierarchy | None = None, include_config: bool = True
    ) -> None:
        """Artifacts opened through `unit_of_work`, labelled by `hierarchy`; `include_config`: reach configs."""
        self._unit_of_work = unit_of_work
        self.hierarchy = hierarchy
        self.include_config = include_config

    def manager(self, uow: UnitOfWork) -> ArtifactManager:
        """The artifact manager on `uow` (and on its configs, for `$config`, when configs are linked)."""
        return artifact_manager_on(uow, self.hierarchy, self.include_config)

    async def create(self, data: Any, *, parent_id: ULID | None = None, id: ULID | None = None) -> ArtifactOut:
        """Store a new artifact under `parent_id` (a root without); `ConflictError` when `id` is taken."""
        async with self._unit_of_work(write=True) as uow:
            return await insert_new(self.manager(uow), ArtifactIn(id=id, data=data, parent_id=parent_id))

    async def get(self, artifact_id: ULID) -> ArtifactOut:
        """Return the artifact; `NotFoundError` for an unknown id."""
        async with self._unit_of_work() as uow:
            return found(await self.manager(uow).find_by_id(artifact_id), artifact_id)

    async def list(self) -> builtins.list[ArtifactOut]:
        """Return every artifact."""
        async with self._unit_of_work() as uow:
            return await self.manager(uow).find_all()

    async def tree(self, artifact_id: ULID) -> ArtifactTreeNode:
        """Return the artifact with its descendants; `NotFoundError` for an unknown id."""
        async with self._unit_of_work() as uow:
            return found(await self.manager(uow).build_tree(artifact_id), artifact_id)

    async def delete(self, artifact_id: ULID) -> None:
        """Delete the artifact and its descendants; `NotFoundError` for an unknown id."""
        async with self._unit_of_work(write=True) as uow:
            await delete_existing(self.manager(uow), artifact_id)


class JobService:
    """The job scheduler's records: inspect, await, cancel and delete jobs, and read their result artifacts."""

    def __init__(self, scheduler: JobScheduler, artifacts: ArtifactService) -> None:
        """Jobs of `scheduler`; their result artifacts are read through `artifacts`."""
        self.scheduler = scheduler
        self._artifacts = artifacts

    async def get(self, job_id: ULID) -> JobRecord:
        """Return the job's record; `JobNotFoundError` (a `NotFoundError`) for an unknown job."""
        return await self.scheduler.get_record(job_id)

    async def list(self) -> builtins.list[JobRecord]:
        """Return every job record."""
        return await self.scheduler.get_all_records()

    async def wait(self, job_id: ULID, timeout: float | None = None) -> JobRecord:
        """Wait until the job has ended (no polling) and return its final record, failed ones too."""
        await self.get(job_id)
        try:
            await self.scheduler.wait(job_id, timeout=timeout)
        except Exception:
            # The scheduler's wait re-raises a failed job's own error (as the reference's); the record says why.
            record = await self.get(job_id)
            if not is_terminal(record.status):
                raise  # the timeout, or the scheduler's own trouble
            return record
        return await self.get(job_id)

    async def result(self, job_id: ULID, timeout: float | None = None) -> ArtifactOut:
        """Wait for the job and return the artifact it stored.

        A job that failed raises its own error (the scheduler re-raises it: `train_and_wait` and `forecast`
        raise what the model or the forecast check raised); one that was canceled or stored nothing
        raises `JobFailedError`.
        """
        await self.get(job_id)
        await self.scheduler.wait(job_id, timeout=timeout)
        record = await self.get(job_id)
        if record.status != "completed" or record.artifact_id is None:
            raise JobFailedError(record)
        return await self._artifacts.get(record.artifact_id)

    async def cancel(self, job_id: ULID) -> bool:
        """Cancel a running job; return whether it was still running."""
        await self.get(job_id)
        return await self.scheduler.cancel(job_id)

    async def delete(self, job_id: ULID) -> None:
        """Cancel (if running) and delete the job's record; `JobNotFoundError` for an unknown job."""
        await self.scheduler.delete(job_id)


class TaskService:
    """Shell and Python tasks, run as jobs on the service's scheduler."""

    def __init__(
        self, unit_of_work: UnitOfWorkFactory, managers: TaskManagerFactory, jobs: JobService | None = None
    ) -> None:
        """Tasks opened through `unit_of_work`, managed by `managers(uow)`; runs awaited through `jobs`."""
        self._unit_of_work = unit_of_work
        self.manager = managers
        self._jobs = jobs

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[TaskManager]:
        """A task manager on a unit of its own, closed after the block (what a worker runs task jobs on)."""
        async with self._unit_of_work() as uow:
            yield self.manager(uow)

    async def create(self, task: TaskIn) -> TaskOut:
        """Store a new task; `ConflictError` when its id is taken."""
        async with self._unit_of_work(write=True) as uow:
            return await insert_new(self.manager(uow), task)

    async def get(self, task_id: ULID) -> TaskOut:
        """Return the task; `NotFoundError` for an unknown id."""
        async with self._unit_of_work() as uow:
            return found(await self.manager(uow).find_by_id(task_id), task_id)

    async def list(self, *, enabled: bool | None = None) -> builtins.list[TaskOut]:
        """Return the tasks (only enabled or disabled ones with `enabled`)."""
        async with self._unit_of_work() as uow:
            return await self.manager(uow).find_all(enabled=enabled)

    async def delete(self, task_id: ULID) -> None:
        """Delete the task; `NotFoundError` for an unknown id."""
        async with self._unit_of_work(write=True) as uow:
            await delete_existing(self.manager(uow), task_id)

    async def execute(self, task_id: ULID) -> ULID:
        """Submit the task as a job and return the job id (the errors `$execute` maps to 404 and 400)."""
        async with self._unit_of_work(write=True) as uow:
            return await self.manager(uow).execute_task(task_id)

    async def run(self, task_id: ULID, timeout: float | None = None) -> ArtifactOut:
        """Execute the task, wait for its job and return the result artifact."""
        if self._jobs is None:
            raise RuntimeError("Running a task needs the service's job scheduler")
        return await self._jobs.result(await self.execute(task_id), timeout)

    async def disable_orphaned(self) -> int:
        """Disable the Python tasks whose function is not registered; return how many were disabled."""
        async with self._unit_of_work(write=True) as uow:
            return await self.manager(uow).disable_orphaned_tasks()


class MLService:
    """Train and predict jobs of the service's model runner."""

    def __init__(self, manager: MLManager, jobs: JobService) -> None:
        """Jobs submitted through `manager` (it opens their units), awaited through `jobs`."""
        self.manager = manager
        self._jobs = jobs

    async def train(self, request: TrainRequest) -> TrainResponse:
        """Submit a training job (`MLRequestError` for a request the model cannot take)."""
        return await self.manager.execute_train(request)

    async def predict(self, request: PredictRequest) -> PredictResponse:
        """Submit a prediction job (`MLRequestError` for a request the model cannot take)."""
        return await self.manager.execute_predict(request)

    async def train_and_wait(self, request: TrainRequest, timeout: float | None = None) -> ArtifactOut:
        """Train, wait for the job and return the trained model artifact."""
        response = await self.train(request)
        return await self._jobs.result(ULID.from_str(response.job_id), timeout)

    async def predict_and_wait(self, request: PredictRequest, timeout: float | None = None) -> ArtifactOut:
        """Predict, wait for the job and return the prediction artifact."""
        response = await self.predict(request)
        return await self._jobs.result(ULID.from_str(response.job_id), timeout)

    async def forecast(
        self,
        model_id: ULID | str,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        *,
        geo: GeoFeatureCollection | None = None,
        run_info: RunInfo | None = None,
        timeout: float | None = None,
    ) -> pd.DataFrame:
        """Predict as CHAP does (the newer contract, D24), wait, and return the forecast with its samples.

        The prediction is stored in chap-core's shape (`location`, `time_period`, `sample_0..N`); a
        forecast that chap-core could not read fails the job, and this raises its error.
        """
        request = PredictRequest.model_validate(
            {
                "artifact_id": model_id,
                "historic": PandasDataFrame.from_dataframe(historic),
                "future": PandasDataFrame.from_dataframe(future),
                "geo": geo,
                "run_info": run_info or RunInfo(),
            }
        )
        return self.predictions(await self.predict_and_wait(request, timeout))

    @staticmethod
    def predictions(artifact: ArtifactOut) -> pd.DataFrame:
        """The predictions a prediction artifact holds, in either generation's stored shape (D24).

        Raises `ValueError` for an artifact that holds no predictions.
        """
        frame = prediction_frame(artifact.data)
        if frame is None:
            raise ValueError(f"artifact {artifact.id} holds no predictions")
        return frame.to_dataframe()


@dataclass(frozen=True, slots=True)
class Services:
    """One service's use cases, bound to its storage and scheduler (what the container provides)."""

    configs: ConfigService
    artifacts: ArtifactService
    tasks: TaskService
    jobs: JobService | None = None
    """None for a service without a job scheduler."""
    ml: MLService | None = None
    """None for a service without a model runner (or without jobs)."""


__all__ = [
    "ArtifactService",
    "ConfigService",
    "JobFailedError",
    "JobService",
    "MLService",
    "Services",
    "artifact_manager_on",
    "config_manager_on",
    "TaskManagerFactory",
    "TaskService",
    "delete_existing",
    "found",
    "insert_new",
    "not_found",
    "update_existing",
]
