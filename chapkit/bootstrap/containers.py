"""The composition root's one path: a frozen `ServiceSpec` -> `build_container(spec)` -> started services.

Every way of running chapkit goes through here: the FastAPI lifespan of a built service, the worker
(which starts that lifespan), `ChapkitService.open`, `open_storage` and the pytest plugin. The builders
fill a `ServiceSpec`; `build_container(spec)` picks the storage adapters by URL (`memory://` -> memory,
D11; any other SQLAlchemy URL -> SQL) and provides the application services already bound (D21):
`configs`, `artifacts`, `tasks`, `jobs` and `ml`, whose methods open and commit their own units of
work. `start(container)` opens the datastore (migrations included) and the job scheduler, and names the
objects a worker runs jobs on (D22); `stop(container)` closes them in reverse order.

`MemoryStorage` and `SqlStorage` expose the same providers: `datastore` (made once), `database` (the
same datastore as a resource: `init()` on start, `dispose()` on stop unless it was given), `job_store`,
`owner_lock` (D16; none in memory), `scheduler` (made once, None without jobs) and `running` (its
`start()`/`shutdown()`), plus `task_injectables` (what Python tasks receive by type on that storage).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from dependency_injector import containers, providers
from sqlalchemy.ext.asyncio import AsyncSession

from chapkit.adapters.memory import InMemoryDatastore
from chapkit.adapters.runners.shell_task import ProcessCommandRunner
from chapkit.adapters.runners.workdirs import remove_abandoned_workspaces
from chapkit.adapters.sql import Database, SqlJobRecordStore, create_database, owner_lock_for
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.manager import BaseManager
from chapkit.application.ml_manager import MLManager
from chapkit.application.services import (
    ArtifactService,
    ConfigService,
    JobService,
    MLService,
    Services,
    TaskService,
    artifact_manager_on,
    config_manager_on,
)
from chapkit.application.task_manager import Injectables, TaskManager
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.jobs_backend import JobsSettings, memory_scheduler, sql_scheduler
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import ModelRunnerProtocol
from chapkit.domain.ml_checks import ModelRequirements
from chapkit.domain.ports import Datastore, JobRecordStore, JobScheduler, OwnerLock, UnitOfWork
from chapkit.domain.ports.scheduler import InstanceProvider

MEMORY_URL = "memory://"


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """Everything a service is made of, fixed before it starts (the builders and `ChapkitService.open` fill it)."""

    url: str = MEMORY_URL
    datastore: Datastore | None = None
    """A datastore made by its owner: used instead of `url`, `init()`ed on start and left open on stop."""
    database_options: Mapping[str, Any] = field(default_factory=dict)
    """Passed to `Database` (pool sizes, echo...); none on memory://."""
    jobs: JobsSettings | None = None
    """Where jobs run (D22); None: no job scheduler."""
    max_concurrency: int | None = None
    config_schema: type[BaseConfig] = BaseConfig
    hierarchy: ArtifactHierarchy | None = None
    config_linking: bool = True
    """Whether artifact managers reach configs (`$config`, the config of a tree)."""
    task_registry: TaskRegistry | None = None
    """The service's Python task functions (None: the default registry)."""
    runner: ModelRunnerProtocol | None = None
    requirements: ModelRequirements | None = None
    """What the service's info declares of train and predict requests."""

    def __post_init__(self) -> None:
        """Refuse database options on memory://, which has no pool."""
        if is_memory_url(self.storage_url) and self.database_options:
            raise TypeError(f"memory:// takes no database options (got {sorted(self.database_options)})")

    @property
    def storage_url(self) -> str:
        """The URL of the storage in use (the given datastore's, else `url`)."""
        return self.datastore.url if self.datastore is not None else self.url


def is_memory_url(url: str) -> bool:
    """Return whether `url` selects the memory adapter (D11)."""
    return url.startswith(MEMORY_URL)


async def opened(database: Datastore, owned: bool = True) -> AsyncIterator[Datastore]:
    """Resource lifecycle of a datastore: `init()` on start, `dispose()` on stop when the container owns it."""
    await database.init()
    try:
        yield database
    finally:
        if owned:
            await database.dispose()


async def running_scheduler(scheduler: JobScheduler | None, datastore: Datastore) -> AsyncIterator[JobScheduler | None]:
    """Resource lifecycle of the scheduler: `start()` after the datastore, `shutdown()` before it (records written)."""
    del datastore  # a dependency only: the datastore starts first and stops last
    if scheduler is None:
        yield None
        return
    await scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.shutdown()


def _sql_injectables(datastore: Datastore, uow: UnitOfWork) -> Injectables:
    # The SQL storage makes only SQL units of work: their session is an AsyncSession.
    return {AsyncSession: uow.session, Database: datastore}


def _memory_injectables(uow: UnitOfWork) -> Injectables:
    del uow  # SQL types are known but unavailable in memory: a required parameter of either is an error (D11)
    return {AsyncSession: None, Database: None}


def _sql_database(url: str, options: dict[str, Any] | None) -> Database:
    return create_database(url, **(options or {}))


class MemoryStorage(containers.DeclarativeContainer):
    """Storage adapters kept in process memory."""

    config = providers.Configuration()
    datastore = providers.Singleton(InMemoryDatastore, url=config.url)
    owned = providers.Object(True)
    database = providers.Resource(opened, datastore, owned=owned)
    job_store: providers.Provider[JobRecordStore] = providers.Singleton(lambda store: store.job_records, datastore)
    owner_lock: providers.Object[OwnerLock | None] = providers.Object(None)  # one process: no neighbour to watch
    scheduler = providers.Singleton(memory_scheduler, config.jobs, job_store, datastore, owner_lock)
    running = providers.Resource(running_scheduler, scheduler, database)
    task_injectables = providers.Object(_memory_injectables)


class SqlStorage(containers.DeclarativeContainer):
    """Storage adapters on SQLAlchemy: SQLite files, SQLite in memory, PostgreSQL."""

    config = providers.Configuration()
    datastore = providers.Singleton(
        lambda url, options: create_database(url, **(options or {})), config.url, config.options
    )
    owned = providers.Object(True)
    database = providers.Resource(opened, datastore, owned=owned)
    job_store = providers.Singleton(SqlJobRecordStore, datastore)
    owner_lock = providers.Singleton(owner_lock_for, datastore)
    scheduler = providers.Singleton(sql_scheduler, config.jobs, job_store, datastore, owner_lock)
    running = providers.Resource(running_scheduler, scheduler, database)
    task_injectables = providers.Factory(partial, _sql_injectables, datastore)


def unit_of_work_of(datastore: Datastore, write: bool = False) -> UnitOfWork:
    """A new unit of work on `datastore`; `write=True` declares that it will write."""
    return datastore.unit_of_work(write=write)


def entity_manager_on(uow: UnitOfWork, model: type[Any], out_schema: type[Any]) -> BaseManager[Any, Any, Any, Any]:
    """A `BaseManager` for a user's own entity `model`, on the unit's repository of it."""
    return BaseManager(uow.repository(model), model, out_schema)


def task_manager_of(
    uow: UnitOfWork,
    scheduler: JobScheduler | None = None,
    hierarchy: ArtifactHierarchy | None = None,
    registry: TaskRegistry | None = None,
    *,
    datastore: Datastore,
    injectables: Any,
    command_runner: ProcessCommandRunner,
    unit_of_work: Callable[..., UnitOfWork],
) -> TaskManager:
    """A task manager on the unit's tasks; its runs open units of their own from `unit_of_work`."""
    return TaskManager(
        uow.tasks,
        scheduler,
        datastore,
        ArtifactManager(uow.artifacts, hierarchy=hierarchy),
        registry=registry,
        command_runner=command_runner,
        artifact_manager_factory=lambda run_uow: ArtifactManager(run_uow.artifacts, hierarchy=hierarchy),
        injectables=injectables,
        unit_of_work=unit_of_work,
    )


def _jobs_of(scheduler: JobScheduler | None, artifacts: ArtifactService) -> JobService | None:
    return None if scheduler is None else JobService(scheduler, artifacts)


def _ml_of(spec: ServiceSpec, manager: providers.Provider[MLManager], jobs: JobService | None) -> MLService | None:
    if spec.runner is None or jobs is None:
        return None
    return MLService(manager(runner=spec.runner, scheduler=jobs.scheduler), jobs)


class ServiceContainer(containers.DeclarativeContainer):
    """One service's graph: its storage, and its application services bound to the spec."""

    spec = providers.Dependency(instance_of=ServiceSpec)
    storage = providers.DependenciesContainer()
    scheduler = storage.scheduler
    unit_of_work = providers.Factory(unit_of_work_of, storage.datastore)
    command_runner = providers.Singleton(ProcessCommandRunner)
    # Managers on a given unit (the embedding API's `Storage`, users' own entities).
    config_manager = providers.Factory(config_manager_on)
    artifact_manager = providers.Factory(artifact_manager_on)
    manager = providers.Factory(entity_manager_on)
    task_manager = providers.Factory(
        task_manager_of,
        datastore=storage.datastore,
        injectables=storage.task_injectables,
        command_runner=command_runner,
        unit_of_work=unit_of_work.provider,
    )
    ml_manager = providers.Factory(
        MLManager,
        database=storage.datastore,
        config_schema=spec.provided.config_schema,
        requirements=spec.provided.requirements,
        unit_of_work=unit_of_work.provider,
    )
    # The application services (D21): each opens and commits its own units of work.
    configs = providers.Factory(ConfigService, unit_of_work.provider, spec.provided.config_schema)
    artifacts = providers.Factory(
        ArtifactService, unit_of_work.provider, spec.provided.hierarchy, spec.provided.config_linking
    )
    jobs = providers.Factory(_jobs_of, scheduler, artifacts)
    service_task_manager = providers.Factory(
        task_manager,
        scheduler=scheduler,
        hierarchy=spec.provided.hierarchy,
        registry=spec.provided.task_registry,
    )
    tasks = providers.Factory(TaskService, unit_of_work.provider, service_task_manager.provider, jobs)
    ml = providers.Factory(_ml_of, spec, ml_manager.provider, jobs)
    services = providers.Factory(Services, configs=configs, artifacts=artifacts, tasks=tasks, jobs=jobs, ml=ml)


def build_container(spec: ServiceSpec) -> ServiceContainer:
    """Build (not start) the container of `spec`: two containers share no engine, pool, store or scheduler."""
    storage: MemoryStorage | SqlStorage
    if is_memory_url(spec.storage_url):
        storage = MemoryStorage(config={"url": spec.storage_url, "jobs": spec.jobs})
    else:
        storage = SqlStorage(
            config={"url": spec.storage_url, "jobs": spec.jobs, "options": dict(spec.database_options)}
        )
    if spec.datastore is not None:
        storage.datastore.override(providers.Object(spec.datastore))
        storage.owned.override(providers.Object(False))
    if spec.jobs is None:
        storage.scheduler.override(providers.Object(None))
    return ServiceContainer(spec=providers.Object(spec), storage=storage)


def create_container(
    url: str = MEMORY_URL, *, datastore: Datastore | None = None, jobs: JobsSettings | None = None, **options: Any
) -> ServiceContainer:
    """Build (not start) a container for `url`, jobs in process unless `jobs` says otherwise (D22).

    Extra options go to `Database` (echo, pool sizes...). With `datastore`, the container uses that
    instance: it is `init()`ed on start and left open on stop, since its owner made it.
    """
    spec = ServiceSpec(url=url, datastore=datastore, database_options=options, jobs=jobs or JobsSettings())
    return build_container(spec)


def job_instances(services: Services) -> dict[type, InstanceProvider]:
    """The objects whose methods queued jobs name, by class: what a worker runs them on (D22)."""

    @asynccontextmanager
    async def task_manager() -> AsyncIterator[object]:
        async with services.tasks.opened() as manager:
            yield manager

    instances: dict[type, InstanceProvider] = {TaskManager: task_manager}
    ml = services.ml
    if ml is not None:

        @asynccontextmanager
        async def ml_manager() -> AsyncIterator[object]:
            yield ml.manager

        instances[MLManager] = ml_manager
    return instances


async def start(container: ServiceContainer) -> Services:
    """Start the container (datastore and migrations, then the scheduler) and return its services."""
    await container.init_resources()  # type: ignore[misc]
    services: Services = container.services()
    scheduler = container.scheduler()
    if scheduler is not None:
        scheduler.provide(job_instances(services))
        spec: ServiceSpec = container.spec()
        if spec.max_concurrency is not None:
            await scheduler.set_max_concurrency(spec.max_concurrency)
    # Model runs of a process killed outright left their working directories: theirs only go.
    await asyncio.to_thread(remove_abandoned_workspaces)
    return services


async def stop(container: containers.Container) -> None:
    """Stop the container's resources in reverse order (the scheduler's records written before the datastore closes)."""
    stopped = container.shutdown_resources()
    if stopped is not None:
        await stopped


@asynccontextmanager
async def started(spec: ServiceSpec) -> AsyncIterator[tuple[ServiceContainer, Services]]:
    """Build and start the container of `spec`; stop it on exit."""
    container = build_container(spec)
    try:
        services = await start(container)
        yield container, services
    finally:
        await stop(container)


def respecified(container: ServiceContainer, **changes: Any) -> Services:
    """Rebind a started container's services to its spec with `changes` (schema, hierarchy, runner...).

    Its scheduler is told the new job instances, so queued jobs run on the new services too.
    """
    spec = replace(container.spec(), **changes)
    container.spec.override(providers.Object(spec))
    services: Services = container.services()
    scheduler = container.scheduler()
    if scheduler is not None:
        scheduler.provide(job_instances(services))
    return services


def use_datastore(container: ServiceContainer, datastore: Datastore) -> None:
    """Make the container's units of work use `datastore` from now on (what `set_database` does)."""
    container.storage.datastore.override(providers.Object(datastore))


def datastore_of(container: ServiceContainer) -> Datastore:
    """The datastore the container's units of work use."""
    datastore: Datastore = container.storage.datastore()
    return datastore


__all__ = [
    "MEMORY_URL",
    "MemoryStorage",
    "ServiceContainer",
    "ServiceSpec",
    "SqlStorage",
    "build_container",
    "create_container",
    "datastore_of",
    "is_memory_url",
    "job_instances",
    "respecified",
    "start",
    "started",
    "stop",
    "unit_of_work_of",
    "use_datastore",
]
