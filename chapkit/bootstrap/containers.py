"""The composition root: dependency-injector containers that pick and wire the storage adapters.

`MemoryStorage` and `SqlStorage` expose the same providers (`database`, `repository`,
`config_repository`, `artifact_repository`, `job_store`, `scheduler`); a `ServiceContainer` receives one
of them as `storage`. `create_container(url)` chooses by URL:
`memory://` -> memory (D11), any other SQLAlchemy URL -> SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dependency_injector import containers, providers

from chapkit.adapters.memory import (
    InMemoryArtifactStore,
    InMemoryConfigStore,
    InMemoryDatastore,
    InMemoryJobRecordStore,
    InMemoryRepository,
)
from chapkit.adapters.scheduler import AIOJobScheduler
from chapkit.adapters.sql import (
    ArtifactRepository,
    BaseRepository,
    ConfigRepository,
    Database,
    SqlJobRecordStore,
    create_database,
)
from chapkit.domain.ports import (
    ArtifactStore,
    ConfigStore,
    Datastore,
    JobRecordStore,
    JobScheduler,
    Repository,
)

MEMORY_URL = "memory://"


async def opened(database: Datastore) -> AsyncIterator[Datastore]:
    """Resource lifecycle of a datastore: `init()` on start, `dispose()` on shutdown."""
    await database.init()
    try:
        yield database
    finally:
        await database.dispose()


async def running_scheduler(store: JobRecordStore, datastore: Datastore) -> AsyncIterator[AIOJobScheduler]:
    """Resource lifecycle of the job scheduler: `start()`, then `shutdown()` (jobs canceled, records written).

    `datastore` is unused here: depending on it directly makes the container stop the scheduler (and
    write its last records) before it disposes the datastore.
    """
    del datastore
    scheduler = AIOJobScheduler(store=store)
    await scheduler.start()
    try:
        yield scheduler
    finally:
        await scheduler.shutdown()


def _sql_database(url: str, options: dict[str, Any] | None) -> Datastore:
    return create_database(url, **(options or {}))


def _sql_job_store(database: Datastore) -> JobRecordStore:
    if not isinstance(database, Database):
        raise TypeError(f"The SQL job store needs a SQL Database, got {type(database).__name__}")
    return SqlJobRecordStore(database)


class MemoryStorage(containers.DeclarativeContainer):
    """Storage adapters kept in process memory."""

    config = providers.Configuration()
    database = providers.Resource(opened, providers.Factory(InMemoryDatastore, url=config.url))
    repository: providers.Factory[Any] = providers.Factory(InMemoryRepository)
    config_repository: providers.Factory[Any] = providers.Factory(InMemoryConfigStore)
    artifact_repository: providers.Factory[Any] = providers.Factory(InMemoryArtifactStore)
    job_store = providers.Singleton(InMemoryJobRecordStore)
    scheduler = providers.Resource(running_scheduler, store=job_store, datastore=database)


class SqlStorage(containers.DeclarativeContainer):
    """Storage adapters on SQLAlchemy: SQLite files, SQLite in memory, PostgreSQL."""

    config = providers.Configuration()
    database = providers.Resource(opened, providers.Factory(_sql_database, url=config.url, options=config.options))
    repository: providers.Factory[Any] = providers.Factory(BaseRepository)
    config_repository: providers.Factory[Any] = providers.Factory(ConfigRepository)
    artifact_repository: providers.Factory[Any] = providers.Factory(ArtifactRepository)
    job_store = providers.Singleton(_sql_job_store, database=database)
    scheduler = providers.Resource(running_scheduler, store=job_store, datastore=database)


class ServiceContainer(containers.DeclarativeContainer):
    """Everything a service needs, built from one storage container."""

    storage = providers.DependenciesContainer()
    scheduler = storage.scheduler


def is_memory_url(url: str) -> bool:
    """Return whether `url` selects the memory adapter (D11)."""
    return url.startswith(MEMORY_URL)


def create_container(url: str = MEMORY_URL, **database_options: Any) -> ServiceContainer:
    """Build (not start) a container for `url`; extra options go to `Database` (echo, pool sizes...)."""
    storage: containers.DeclarativeContainer
    if is_memory_url(url):
        if database_options:
            raise TypeError(f"memory:// takes no database options (got {sorted(database_options)})")
        storage = MemoryStorage(config={"url": url})
    else:
        storage = SqlStorage(config={"url": url, "options": database_options})
    return ServiceContainer(storage=storage)


class Storage:
    """A started container's storage, for plain Python: sessions and repositories without HTTP."""

    def __init__(self, container: ServiceContainer, database: Datastore, scheduler: JobScheduler | None = None) -> None:
        """Wrap a started container (and its started job scheduler)."""
        self.container = container
        self.database = database
        self.scheduler = scheduler

    def session(self) -> Any:
        """Open a unit of work (async context manager); what is not committed is discarded."""
        return self.database.session()

    def repository(self, session: Any, model: type[Any]) -> Repository[Any, Any]:
        """Return the repository for `model` bound to `session`."""
        repository: Repository[Any, Any] = self.container.storage.repository(session, model)
        return repository

    def config_repository(self, session: Any) -> ConfigStore:
        """Return the config repository bound to `session`."""
        repository: ConfigStore = self.container.storage.config_repository(session)
        return repository

    def artifact_repository(self, session: Any) -> ArtifactStore:
        """Return the artifact repository bound to `session`."""
        repository: ArtifactStore = self.container.storage.artifact_repository(session)
        return repository


@asynccontextmanager
async def open_storage(url: str = MEMORY_URL, **database_options: Any) -> AsyncIterator[Storage]:
    """Start a container for `url` (migrations included) and stop it on exit."""
    container = create_container(url, **database_options)
    await start(container)
    try:
        yield Storage(container, await container.storage.database(), await container.storage.scheduler())
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
    "create_container",
    "is_memory_url",
    "open_storage",
    "running_scheduler",
]
