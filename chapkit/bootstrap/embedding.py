"""The embedding entry point: a chapkit service from plain Python, without HTTP.

`ChapkitService.open(url, ...)` starts a container (the same one the FastAPI lifespan starts) and gives
typed facades: `configs`, `artifacts`, `tasks`, `ml` and `jobs`. Each call runs one use case in its own
unit of work, through the managers the HTTP routers use, and raises the errors the HTTP adapter turns
into problems (`NotFoundError` -> 404, `ConflictError` -> 409, `MLRequestError`, ...).
`ChapkitService.open_sync(...)` is the same service for scripts and notebooks, driven through an anyio
blocking portal at the edge.
"""

from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager
from typing import Any, TypeVar

import pandas as pd
from anyio.from_thread import BlockingPortal, start_blocking_portal
from pydantic import BaseModel
from ulid import ULID

from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.manager import BaseManager
from chapkit.application.ml_manager import MLManager
from chapkit.application.task_manager import TaskManager
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.containers import MEMORY_URL, Storage, open_storage
from chapkit.domain.artifact import ArtifactHierarchy, ArtifactIn, ArtifactOut, ArtifactTreeNode, PandasDataFrame
from chapkit.domain.config import BaseConfig, ConfigIn, ConfigOut
from chapkit.domain.errors import ChapkitException, ConflictError, ErrorType, NotFoundError
from chapkit.domain.jobs import JobRecord
from chapkit.domain.ml import (
    GeoFeatureCollection,
    ModelRunnerProtocol,
    PredictRequest,
    PredictResponse,
    RunInfo,
    TrainRequest,
    TrainResponse,
)
from chapkit.domain.ml_artifacts import prediction_frame
from chapkit.domain.ml_checks import ModelRequirements
from chapkit.domain.ports import JobScheduler, UnitOfWork
from chapkit.domain.task import TaskIn, TaskOut


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


def _not_found(entity_id: ULID) -> NotFoundError:
    # The message the HTTP CRUD routes give for an unknown id.
    return NotFoundError(f"Entity with id {entity_id} not found")


_Out = TypeVar("_Out", bound=BaseModel)


async def _save_new(manager: BaseManager[Any, Any, _Out, ULID], data: Any) -> _Out:
    """Insert `data`, as `POST` does (D14): `ConflictError` when its id is already stored."""
    if data.id is not None and await manager.exists_by_id(data.id):
        raise ConflictError(f"Entity with id {data.id} already exists")
    return await manager.save(data)


async def _delete_stored(manager: BaseManager[Any, Any, Any, ULID], entity_id: ULID) -> None:
    """Delete a stored entity, as `DELETE` does: `NotFoundError` for an unknown id."""
    if not await manager.exists_by_id(entity_id):
        raise _not_found(entity_id)
    await manager.delete_by_id(entity_id)


class JobService:
    """The job scheduler's records: inspect, await, cancel and delete jobs, and read their result artifacts."""

    def __init__(self, storage: Storage, scheduler: JobScheduler, hierarchy: ArtifactHierarchy | None) -> None:
        self._storage = storage
        self._scheduler = scheduler
        self._hierarchy = hierarchy

    async def get(self, job_id: ULID) -> JobRecord:
        """Return the job's record; `JobNotFoundError` (a `NotFoundError`) for an unknown job."""
        return await self._scheduler.get_record(job_id)

    async def list(self) -> builtins.list[JobRecord]:
        """Return every job record."""
        return await self._scheduler.get_all_records()

    async def wait(self, job_id: ULID, timeout: float | None = None) -> JobRecord:
        """Wait until the job has ended (no polling) and return its final record."""
        await self.get(job_id)
        await self._scheduler.wait(job_id, timeout=timeout)
        return await self.get(job_id)

    async def result(self, job_id: ULID, timeout: float | None = None) -> ArtifactOut:
        """Wait for the job and return the artifact it stored; `JobFailedError` when it did not complete."""
        record = await self.wait(job_id, timeout)
        if record.status != "completed" or record.artifact_id is None:
            raise JobFailedError(record)
        async with self._storage.unit_of_work() as uow:
            artifact = await self._storage.artifact_manager(uow, self._hierarchy).find_by_id(record.artifact_id)
        if artifact is None:
            raise _not_found(record.artifact_id)
        return artifact

    async def cancel(self, job_id: ULID) -> bool:
        """Cancel a running job; return whether it was still running."""
        await self.get(job_id)
        return await self._scheduler.cancel(job_id)

    async def delete(self, job_id: ULID) -> None:
        """Cancel (if running) and delete the job's record; `JobNotFoundError` for an unknown job."""
        await self._scheduler.delete(job_id)


class ConfigService:
    """Configs validated into the service's config schema."""

    def __init__(self, storage: Storage, schema: type[BaseConfig]) -> None:
        self._storage = storage
        self.schema = schema

    def _manager(self, uow: UnitOfWork) -> ConfigManager[BaseConfig]:
        return self._storage.config_manager(uow, self.schema)

    async def create(
        self, name: str, data: BaseConfig | Mapping[str, Any], *, id: ULID | None = None
    ) -> ConfigOut[Any]:
        """Store a new config (`data` is validated into the schema); `ConflictError` when `id` is taken."""
        config_in = ConfigIn[self.schema].model_validate(  # type: ignore[name-defined]
            {"id": id, "name": name, "data": data.model_dump() if isinstance(data, BaseConfig) else dict(data)}
        )
        async with self._storage.unit_of_work(write=True) as uow:
            return await _save_new(self._manager(uow), config_in)

    async def get(self, config_id: ULID) -> ConfigOut[Any]:
        """Return the config; `NotFoundError` for an unknown id."""
        async with self._storage.unit_of_work() as uow:
            found = await self._manager(uow).find_by_id(config_id)
        if found is None:
            raise _not_found(config_id)
        return found

    async def find_by_name(self, name: str) -> ConfigOut[Any] | None:
        """Return the config called `name`, or None."""
        async with self._storage.unit_of_work() as uow:
            return await self._manager(uow).find_by_name(name)

    async def list(self) -> builtins.list[ConfigOut[Any]]:
        """Return every config."""
        async with self._storage.unit_of_work() as uow:
            return await self._manager(uow).find_all()

    async def delete(self, config_id: ULID) -> None:
        """Delete the config; `NotFoundError` for an unknown id."""
        async with self._storage.unit_of_work(write=True) as uow:
            await _delete_stored(self._manager(uow), config_id)

    async def linked_artifacts(self, config_id: ULID) -> builtins.list[ArtifactOut]:
        """Return the root artifacts linked to the config."""
        async with self._storage.unit_of_work() as uow:
            manager = self._manager(uow)
            if not await manager.exists_by_id(config_id):
                raise _not_found(config_id)
            return await manager.get_linked_artifacts(config_id)


class ArtifactService:
    """Artifacts in the service's hierarchy."""

    def __init__(self, storage: Storage, hierarchy: ArtifactHierarchy | None) -> None:
        self._storage = storage
        self.hierarchy = hierarchy

    def _manager(self, uow: UnitOfWork) -> ArtifactManager:
        return self._storage.artifact_manager(uow, self.hierarchy)

    async def create(self, data: Any, *, parent_id: ULID | None = None, id: ULID | None = None) -> ArtifactOut:
        """Store a new artifact under `parent_id` (a root without); `ConflictError` when `id` is taken."""
        async with self._storage.unit_of_work(write=True) as uow:
            return await _save_new(self._manager(uow), ArtifactIn(id=id, data=data, parent_id=parent_id))

    async def get(self, artifact_id: ULID) -> ArtifactOut:
        """Return the artifact; `NotFoundError` for an unknown id."""
        async with self._storage.unit_of_work() as uow:
            found = await self._manager(uow).find_by_id(artifact_id)
        if found is None:
            raise _not_found(artifact_id)
        return found

    async def list(self) -> builtins.list[ArtifactOut]:
        """Return every artifact."""
        async with self._storage.unit_of_work() as uow:
            return await self._manager(uow).find_all()

    async def tree(self, artifact_id: ULID) -> ArtifactTreeNode:
        """Return the artifact with its descendants; `NotFoundError` for an unknown id."""
        async with self._storage.unit_of_work() as uow:
            node = await self._manager(uow).build_tree(artifact_id)
        if node is None:
            raise _not_found(artifact_id)
        return node

    async def delete(self, artifact_id: ULID) -> None:
        """Delete the artifact and its descendants; `NotFoundError` for an unknown id."""
        async with self._storage.unit_of_work(write=True) as uow:
            await _delete_stored(self._manager(uow), artifact_id)


class TaskService:
    """Shell and Python tasks, run as jobs on the service's scheduler."""

    def __init__(
        self, storage: Storage, hierarchy: ArtifactHierarchy | None, registry: TaskRegistry | None, jobs: JobService
    ) -> None:
        self._storage = storage
        self._hierarchy = hierarchy
        self._registry = registry
        self._jobs = jobs

    def _manager(self, uow: UnitOfWork) -> TaskManager:
        return self._storage.task_manager(uow, self._hierarchy, self._registry)

    async def create(self, task: TaskIn) -> TaskOut:
        """Store a new task; `ConflictError` when its id is taken."""
        async with self._storage.unit_of_work(write=True) as uow:
            return await _save_new(self._manager(uow), task)

    async def get(self, task_id: ULID) -> TaskOut:
        """Return the task; `NotFoundError` for an unknown id."""
        async with self._storage.unit_of_work() as uow:
            found = await self._manager(uow).find_by_id(task_id)
        if found is None:
            raise _not_found(task_id)
        return found

    async def list(self, *, enabled: bool | None = None) -> builtins.list[TaskOut]:
        """Return the tasks (only enabled or disabled ones with `enabled`)."""
        async with self._storage.unit_of_work() as uow:
            return await self._manager(uow).find_all(enabled=enabled)

    async def delete(self, task_id: ULID) -> None:
        """Delete the task; `NotFoundError` for an unknown id."""
        async with self._storage.unit_of_work(write=True) as uow:
            await _delete_stored(self._manager(uow), task_id)

    async def execute(self, task_id: ULID) -> ULID:
        """Submit the task as a job and return the job id (the errors `$execute` maps to 404 and 400)."""
        async with self._storage.unit_of_work(write=True) as uow:
            return await self._manager(uow).execute_task(task_id)

    async def run(self, task_id: ULID, timeout: float | None = None) -> ArtifactOut:
        """Execute the task, wait for its job and return the result artifact."""
        return await self._jobs.result(await self.execute(task_id), timeout)


class MLService:
    """Train and predict jobs of the service's model runner."""

    def __init__(self, manager: MLManager, jobs: JobService) -> None:
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


class ChapkitService:
    """A started chapkit service in plain Python: typed facades over units of work, no HTTP."""

    def __init__(
        self,
        storage: Storage,
        *,
        config_schema: type[BaseConfig] = BaseConfig,
        hierarchy: ArtifactHierarchy | None = None,
        runner: ModelRunnerProtocol | None = None,
        task_registry: TaskRegistry | None = None,
        requirements: ModelRequirements | None = None,
    ) -> None:
        """Wrap a started storage (see `open`, which builds one)."""
        if storage.scheduler is None:
            raise ValueError("ChapkitService needs a storage with a started job scheduler (open_storage)")
        self.storage = storage
        self.configs = ConfigService(storage, config_schema)
        self.artifacts = ArtifactService(storage, hierarchy)
        self.jobs = JobService(storage, storage.scheduler, hierarchy)
        self.tasks = TaskService(storage, hierarchy, task_registry, self.jobs)
        self._ml: MLService | None = None
        if runner is not None:
            self._ml = MLService(storage.ml_manager(runner, config_schema, requirements), self.jobs)

    @property
    def ml(self) -> MLService:
        """Train and predict; only for a service opened with a `runner`."""
        if self._ml is None:
            raise RuntimeError("This service has no model runner: open it with runner=...")
        return self._ml

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        url: str = MEMORY_URL,
        *,
        config_schema: type[BaseConfig] = BaseConfig,
        hierarchy: ArtifactHierarchy | None = None,
        runner: ModelRunnerProtocol | None = None,
        task_registry: TaskRegistry | None = None,
        requirements: ModelRequirements | None = None,
        **database_options: Any,
    ) -> AsyncIterator[ChapkitService]:
        """Start a service on `url` (`memory://` or a SQLAlchemy URL); on exit, cancel its jobs and close it."""
        async with open_storage(url, **database_options) as storage:
            yield cls(
                storage,
                config_schema=config_schema,
                hierarchy=hierarchy,
                runner=runner,
                task_registry=task_registry,
                requirements=requirements,
            )

    @classmethod
    def open_sync(cls, url: str = MEMORY_URL, **options: Any) -> SyncChapkitService:
        """Start the same service for synchronous code (scripts, notebooks); close it with `close()` or `with`."""
        return SyncChapkitService(url, **options)


class Blocking:
    """A facade's async methods, called from synchronous code through a blocking portal."""

    def __init__(self, portal: BlockingPortal, target: object) -> None:
        """Wrap `target`; its coroutine methods run on the portal's event loop."""
        self._portal = portal
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        portal = self._portal

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            return portal.call(functools.partial(attribute, *args, **kwargs))

        return call


class SyncChapkitService:
    """`ChapkitService` for synchronous code: the same facades, each call run on a background event loop."""

    def __init__(self, url: str = MEMORY_URL, **options: Any) -> None:
        """Start the service on `url` (same options as `ChapkitService.open`)."""
        self._stack = ExitStack()
        try:
            portal = self._stack.enter_context(start_blocking_portal())
            opened: AbstractContextManager[ChapkitService] = portal.wrap_async_context_manager(
                ChapkitService.open(url, **options)
            )
            self.service = self._stack.enter_context(opened)
        except BaseException:
            self._stack.close()
            raise
        blocking: Callable[[object], Blocking] = functools.partial(Blocking, portal)
        self.configs = blocking(self.service.configs)
        self.artifacts = blocking(self.service.artifacts)
        self.tasks = blocking(self.service.tasks)
        self.jobs = blocking(self.service.jobs)
        self._portal = portal

    @property
    def ml(self) -> Blocking:
        """Train and predict (see `ChapkitService.ml`)."""
        return Blocking(self._portal, self.service.ml)

    def close(self) -> None:
        """Stop the service (jobs canceled, storage closed) and its event loop."""
        self._stack.close()

    def __enter__(self) -> SyncChapkitService:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


__all__ = [
    "ArtifactService",
    "Blocking",
    "ChapkitService",
    "ConfigService",
    "JobFailedError",
    "JobService",
    "MLService",
    "SyncChapkitService",
    "TaskService",
]
