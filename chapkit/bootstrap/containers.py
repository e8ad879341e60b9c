"""The composition root: dependency-injector containers that pick and wire the storage adapters.

`MemoryStorage` and `SqlStorage` expose the same providers (`database`, `repository`,
`config_repository`, `artifact_repository`); a
`ServiceContainer` receives one of them as `storage`. `create_container(url)` chooses by URL:
`memory://` -> memory (D11), any other SQLAlchemy URL -> SQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from dependency_injector import containers, providers

from chapkit.adapters.memory import (
    InMemoryArtifactRepository,
    InMemoryConfigRepository,
    InMemoryDatabase,
    InMemoryRepository,
)
from chapkit.adapters.sql import ArtifactRepository, BaseRepository, ConfigRepository, create_database
from chapkit.domain.ports import ArtifactRepositoryPort, ConfigRepositoryPort, Datastore, Repository

MEMORY_URL = "memory://"


async def opened(database: Datastore) -> AsyncIterator[Datastore]:
    """Resource lifecycle of a datastore: `init()` on start, `dispose()` on shutdown."""
    await database.init()
    try:
        yield database
    finally:
        await database.dispose()


def _sql_database(url: str, options: dict[str, Any] | None) -> Datastore:
    return create_database(url, **(options or {}))


class MemoryStorage(containers.DeclarativeContainer):
    """Storage adapters kept in process memory."""

    config = providers.Configuration()
    database = providers.Resource(opened, providers.Factory(InMemoryDatabase, url=config.url))
    repository: providers.Factory[Any] = providers.Factory(InMemoryRepository)
    config_repository: providers.Factory[Any] = providers.Factory(InMemoryConfigRepository)
    artifact_repository: providers.Factory[Any] = providers.Factory(InMemoryArtifactRepository)


class SqlStorage(containers.DeclarativeContainer):
    """Storage adapters on SQLAlchemy: SQLite files, SQLite in memory, PostgreSQL."""

    config = providers.Configuration()
    database = providers.Resource(opened, providers.Factory(_sql_database, url=config.url, options=config.options))
    repository: providers.Factory[Any] = providers.Factory(BaseRepository)
    config_repository: providers.Factory[Any] = providers.Factory(ConfigRepository)
    artifact_repository: providers.Factory[Any] = providers.Factory(ArtifactRepository)


class ServiceContainer(containers.DeclarativeContainer):
    """Everything a service needs, built from one storage container."""

    storage = providers.DependenciesContainer()


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

    def __init__(self, container: ServiceContainer, database: Datastore) -> None:
        """Wrap a started container."""
        self.container = container
        self.database = database

    def session(self) -> Any:
        """Open a unit of work (async context manager); what is not committed is discarded."""
        return self.database.session()

    def repository(self, session: Any, model: type[Any]) -> Repository[Any, Any]:
        """Return the repository for `model` bound to `session`."""
        repository: Repository[Any, Any] = self.container.storage.repository(session, model)
        return repository

    def config_repository(self, session: Any) -> ConfigRepositoryPort:
        """Return the config repository bound to `session`."""
        repository: ConfigRepositoryPort = self.container.storage.config_repository(session)
        return repository

    def artifact_repository(self, session: Any) -> ArtifactRepositoryPort:
        """Return the artifact repository bound to `session`."""
        repository: ArtifactRepositoryPort = self.container.storage.artifact_repository(session)
        return repository


@asynccontextmanager
async def open_storage(url: str = MEMORY_URL, **database_options: Any) -> AsyncIterator[Storage]:
    """Start a container for `url` (migrations included) and stop it on exit."""
    container = create_container(url, **database_options)
    await start(container)
    try:
        yield Storage(container, await container.storage.database())
    finally:
        await stop(container)


async def start(container: containers.Container) -> None:
    """Start the container's resources (the datastore: connections, migrations)."""
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
]
