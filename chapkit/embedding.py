"""The embedding entry points: a chapkit service, or its storage, from plain Python, without HTTP.

A facade over the composition root (like the CLI and the testing kit): `open_storage(url)` and
`ChapkitService.open(url, ...)` build and start the container of a `ServiceSpec`, as the FastAPI
lifespan does, and never choose adapters themselves.

`ChapkitService.open(url, ...)` fills a `ServiceSpec` and starts its container, as the FastAPI lifespan
does, and gives the container's application services (`chapkit.application.services`): `configs`,
`artifacts`, `tasks`, `ml` and `jobs`. Each call runs one use case in its own unit of work, through the
managers the HTTP routers use, and raises the errors the HTTP adapter turns into problems
(`NotFoundError` -> 404, `ConflictError` -> 409, `MLRequestError`, ...).
`ChapkitService.open_sync(...)` is the same service for scripts and notebooks, driven through an anyio
blocking portal at the edge.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal

from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.manager import BaseManager
from chapkit.application.ml_manager import MLManager
from chapkit.application.services import (
    ArtifactService,
    ConfigService,
    JobFailedError,
    JobService,
    MLService,
    Services,
    TaskService,
)
from chapkit.application.task_manager import TaskManager
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.containers import (
    MEMORY_URL,
    ServiceContainer,
    ServiceSpec,
    create_container,
    datastore_of,
    respecified,
    start,
    started,
    stop,
)
from chapkit.bootstrap.jobs_backend import JobsSettings
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import ModelRunnerProtocol
from chapkit.domain.ml_checks import ModelRequirements
from chapkit.domain.ports import Datastore, JobScheduler, UnitOfWork


class Storage:
    """A started container, for plain Python: units of work and managers without HTTP (the embedding API)."""

    def __init__(self, container: ServiceContainer, services: Services) -> None:
        """Wrap a started container and its services."""
        self.container = container
        self.services = services
        self.scheduler: JobScheduler | None = container.scheduler()

    @property
    def spec(self) -> ServiceSpec:
        """The spec the container was built from."""
        spec: ServiceSpec = self.container.spec()
        return spec

    @property
    def database(self) -> Datastore:
        """The started datastore."""
        return datastore_of(self.container)

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """Return a unit of work (`async with` it; what is not committed is discarded)."""
        uow: UnitOfWork = self.container.unit_of_work(write=write)
        return uow

    def config_manager(self, uow: UnitOfWork, schema: type[BaseConfig] = BaseConfig) -> ConfigManager[BaseConfig]:
        """Return a config manager on `uow`, validating `data` into `schema`."""
        manager: ConfigManager[BaseConfig] = self.container.config_manager(uow, schema)
        return manager

    def artifact_manager(
        self, uow: UnitOfWork, hierarchy: ArtifactHierarchy | None = None, include_config: bool = True
    ) -> ArtifactManager:
        """Return an artifact manager on `uow`."""
        manager: ArtifactManager = self.container.artifact_manager(uow, hierarchy, include_config)
        return manager

    def manager(self, uow: UnitOfWork, model: type[Any], out_schema: type[Any]) -> BaseManager[Any, Any, Any, Any]:
        """Return a `BaseManager` for your own entity `model` on `uow`."""
        manager: BaseManager[Any, Any, Any, Any] = self.container.manager(uow, model, out_schema)
        return manager

    def task_manager(
        self, uow: UnitOfWork, hierarchy: ArtifactHierarchy | None = None, registry: TaskRegistry | None = None
    ) -> TaskManager:
        """Return a task manager on `uow` that runs tasks on the started scheduler (`registry`: default one)."""
        manager: TaskManager = self.container.task_manager(uow, self.scheduler, hierarchy, registry)
        return manager

    def ml_manager(
        self,
        runner: ModelRunnerProtocol,
        config_schema: type[BaseConfig],
        requirements: ModelRequirements | None = None,
    ) -> MLManager:
        """Return an `MLManager` whose train and predict jobs run on this storage's scheduler and units of work."""
        if self.scheduler is None:
            raise RuntimeError("ML jobs need the storage's job scheduler (open it with open_storage)")
        manager: MLManager = self.container.ml_manager(
            runner=runner, scheduler=self.scheduler, config_schema=config_schema, requirements=requirements
        )
        return manager

    def with_spec(self, **changes: Any) -> Services:
        """The services of this storage for a spec with `changes` (schema, hierarchy, runner...); jobs see them too."""
        self.services = respecified(self.container, **changes)
        return self.services


@asynccontextmanager
async def open_storage(url: str = MEMORY_URL, **options: Any) -> AsyncIterator[Storage]:
    """Start a container for `url` (migrations included) and its job scheduler; stop both on exit.

    Takes `create_container`'s options: `jobs=JobsSettings(...)`, `datastore=...`, database options.
    """
    container = create_container(url, **options)
    try:
        yield Storage(container, await start(container))
    finally:
        await stop(container)


class ChapkitService:
    """A started chapkit service in plain Python: typed facades over units of work, no HTTP."""

    def __init__(
        self,
        storage: Storage,
        *,
        config_schema: type[BaseConfig] | None = None,
        hierarchy: ArtifactHierarchy | None = None,
        runner: ModelRunnerProtocol | None = None,
        task_registry: TaskRegistry | None = None,
        requirements: ModelRequirements | None = None,
    ) -> None:
        """Wrap a started storage (see `open`, which builds one); the options given replace its spec's."""
        if storage.scheduler is None:
            raise ValueError("ChapkitService needs a storage with a started job scheduler (open_storage)")
        self.storage = storage
        given = {
            "config_schema": config_schema,
            "hierarchy": hierarchy,
            "runner": runner,
            "task_registry": task_registry,
            "requirements": requirements,
        }
        changes = {name: value for name, value in given.items() if value is not None}
        services = storage.with_spec(**changes) if changes else storage.services
        assert services.jobs is not None  # the storage has a scheduler
        self.configs: ConfigService = services.configs
        self.artifacts: ArtifactService = services.artifacts
        self.jobs: JobService = services.jobs
        self.tasks: TaskService = services.tasks
        self._ml: MLService | None = services.ml

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
        """Start a service on `url` (`memory://` or a SQLAlchemy URL); on exit, cancel its jobs and close it.

        Other options go to `create_container`: `jobs=JobsSettings(...)`, `datastore=...`, database options.
        """
        jobs = database_options.pop("jobs", None) or JobsSettings()
        datastore = database_options.pop("datastore", None)
        spec = ServiceSpec(
            url=url,
            datastore=datastore,
            database_options=database_options,
            jobs=jobs,
            config_schema=config_schema,
            hierarchy=hierarchy,
            runner=runner,
            task_registry=task_registry,
            requirements=requirements,
        )
        async with started(spec) as (container, services):
            yield cls(Storage(container, services))

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
    "Storage",
    "open_storage",
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
