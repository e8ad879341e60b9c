"""The composition root: dependency-injector containers that pick the storage adapter and build managers.

`MemoryStorage` and `SqlStorage` expose the same providers: `datastore` (the adapter's `Datastore`, made
once), `database` (the same datastore as a resource: `init()` on start, `dispose()` on shutdown),
`job_store`, `owner_lock` (D16; none in memory) and `scheduler`. A `ServiceContainer` receives one of
them as `storage` and is the one way to reach the data (D21): `unit_of_work(write=...)` opens units of
work on the datastore, and the manager factories build managers from a unit. `create_container(url)`
chooses the storage by URL: `memory://` -> memory (D11), any other SQLAlchemy URL -> SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dependency_injector import containers, providers

from chapkit.adapters.memory import InMemoryDatastore
from chapkit.adapters.runners.shell_task import ProcessCommandRunner
from chapkit.adapters.sql import Database, SqlJobRecordStore, create_database, owner_lock_for
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.manager import BaseManager
from chapkit.application.ml_manager import MLManager
from chapkit.application.task_manager import TaskManager
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.jobs_backend import JobsSettings, memory_scheduler, running_scheduler, sql_scheduler
from chapkit.bootstrap.task_wiring import memory_task_injectables, sql_task_injectables, task_manager_of
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import ModelRunnerProtocol
from chapkit.domain.ml_checks import ModelRequirements
from chapkit.domain.ports import Datastore, JobRecordStore, JobScheduler, OwnerLock, UnitOfWork

MEMORY_URL = "memory://"


async def opened(database: Datastore, owned: bool = True) -> AsyncIterator[Datastore]:
    """Resource lifecycle of a datastore: `init()` on start, `dispose()` on shutdown when the container owns it."""
    await database.init()
    try:
        yield database
    finally:
        if owned:
            await database.dispose()


def _sql_database(url: str, options: dict[str, Any] | None) -> Database:
    return create_database(url, **(options or {}))


def _memory_job_store(datastore: InMemoryDatastore) -> JobRecordStore:
    return datastore.job_records


class MemoryStorage(containers.DeclarativeContainer):
    """Storage adapters kept in process memory."""

    config = providers.Configuration()
    datastore = providers.Singleton(InMemoryDatastore, url=config.url)
    owned = providers.Object(True)
    database = providers.Resource(opened, datastore, owned=owned)
    job_store = providers.Singleton(_memory_job_store, datastore)
    owner_lock: providers.Object[OwnerLock | None] = providers.Object(None)  # one process: no neighbour to watch
    scheduler = providers.Resource(
        running_scheduler, memory_scheduler, store=job_store, datastore=database, settings=config.jobs, lock=owner_lock
    )
    task_injectables = providers.Singleton(memory_task_injectables)


class SqlStorage(containers.DeclarativeContainer):
    """Storage adapters on SQLAlchemy: SQLite files, SQLite in memory, PostgreSQL."""

    config = providers.Configuration()
    datastore = providers.Singleton(_sql_database, url=config.url, options=config.options)
    owned = providers.Object(True)
    database = providers.Resource(opened, datastore, owned=owned)
    job_store = providers.Singleton(SqlJobRecordStore, datastore)
    owner_lock = providers.Singleton(owner_lock_for, datastore)
    scheduler = providers.Resource(
        running_scheduler, sql_scheduler, store=job_store, datastore=database, settings=config.jobs, lock=owner_lock
    )
    task_injectables = providers.Factory(sql_task_injectables, datastore)


def unit_of_work_of(datastore: Datastore, write: bool = False) -> UnitOfWork:
    """A new unit of work on `datastore`; `write=True` declares that it will write."""
    return datastore.unit_of_work(write=write)


def config_manager_of(uow: UnitOfWork, schema: type[BaseConfig] = BaseConfig) -> ConfigManager[BaseConfig]:
    """A config manager on the unit's configs, validating `data` into `schema`."""
    return ConfigManager[BaseConfig](uow.configs, schema)


def artifact_manager_of(
    uow: UnitOfWork, hierarchy: ArtifactHierarchy | None = None, include_config: bool = True
) -> ArtifactManager:
    """An artifact manager on the unit's artifacts (and its configs, for `$config`, when `include_config`)."""
    config_repo = uow.configs if include_config else None
    return ArtifactManager(uow.artifacts, hierarchy=hierarchy, config_repo=config_repo)


def entity_manager_of(uow: UnitOfWork, model: type[Any], out_schema: type[Any]) -> BaseManager[Any, Any, Any, Any]:
    """A `BaseManager` for a user's own entity `model`, on the unit's repository of it."""
    return BaseManager(uow.repository(model), model, out_schema)


class ServiceContainer(containers.DeclarativeContainer):
    """Everything a service needs, built from one storage container: units of work and managers."""

    storage = providers.DependenciesContainer()
    unit_of_work = providers.Factory(unit_of_work_of, storage.datastore)
    config_manager = providers.Factory(config_manager_of)
    artifact_manager = providers.Factory(artifact_manager_of)
    manager = providers.Factory(entity_manager_of)
    command_runner = providers.Singleton(ProcessCommandRunner)
    task_manager = providers.Factory(
        task_manager_of,
        datastore=storage.datastore,
        injectables=storage.task_injectables,
        command_runner=command_runner,
    )
    # Called with runner, scheduler and config_schema; its jobs open their units from `unit_of_work`.
    ml_manager = providers.Factory(MLManager, database=storage.datastore, unit_of_work=unit_of_work.provider)


def is_memory_url(url: str) -> bool:
    """Return whether `url` selects the memory adapter (D11)."""
    return url.startswith(MEMORY_URL)


def create_container(
    url: str = MEMORY_URL,
    *,
    datastore: Datastore | None = None,
    jobs: JobsSettings | None = None,
    **database_options: Any,
) -> ServiceContainer:
    """Build (not start) a container for `url`; extra options go to `Database` (echo, pool sizes...).

    `jobs` chooses the scheduler (in process by default; `JobsSettings(backend="procrastinate")` queues
    jobs in PostgreSQL for worker processes, D22).

    With `datastore`, the container uses that instance (chosen by its URL): it is `init()`ed on start
    and left open on shutdown, since its owner made it.
    """
    if datastore is not None:
        url = datastore.url
    storage: MemoryStorage | SqlStorage
    if is_memory_url(url):
        if database_options:
            raise TypeError(f"memory:// takes no database options (got {sorted(database_options)})")
        storage = MemoryStorage(config={"url": url, "jobs": jobs})
    else:
        storage = SqlStorage(config={"url": url, "options": database_options, "jobs": jobs})
    if datastore is not None:
        storage.datastore.override(providers.Object(datastore))
        storage.owned.override(providers.Object(False))
    return ServiceContainer(storage=storage)


def use_datastore(container: ServiceContainer, datastore: Datastore) -> None:
    """Make the container's units of work use `datastore` from now on (what `set_database` does)."""
    container.storage.datastore.override(providers.Object(datastore))


def datastore_of(container: ServiceContainer) -> Datastore:
    """The datastore the container's units of work use."""
    datastore: Datastore = container.storage.datastore()
    return datastore


class Storage:
    """A started container, for plain Python: units of work and managers without HTTP (the embedding API)."""

    def __init__(self, container: ServiceContainer, scheduler: JobScheduler | None = None) -> None:
        """Wrap a started container (and its started job scheduler)."""
        self.container = container
        self.scheduler = scheduler

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


@asynccontextmanager
async def open_storage(url: str = MEMORY_URL, **database_options: Any) -> AsyncIterator[Storage]:
    """Start a container for `url` (migrations included) and its job scheduler; stop both on exit."""
    container = create_container(url, **database_options)
    await start(container)
    try:
        yield Storage(container, await container.storage.scheduler())
    finally:
        await stop(container)


async def start(container: containers.Container) -> None:
    """Start the container's resources (the datastore: connections, migrations; then the job scheduler)."""
    started = container.init_resources()
    if started is not None:
        await started


async def stop(container: containers.Container) -> None:
    """Stop the container's resources in reverse order."""
    stopped = container.shutdown_resources()
    if stopped is not None:
        await stopped


__all__ = [
    "MEMORY_URL",
    "MemoryStorage",
    "ServiceContainer",
    "SqlStorage",
    "Storage",
    "artifact_manager_of",
    "config_manager_of",
    "create_container",
    "datastore_of",
    "entity_manager_of",
    "is_memory_url",
    "open_storage",
    "running_scheduler",
    "unit_of_work_of",
    "use_datastore",
]
