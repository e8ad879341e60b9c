"""FastAPI dependencies giving config and artifact managers, on whichever storage the service runs (D5)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends

from chapkit.adapters.memory import InMemoryArtifactStore, InMemoryConfigStore, InMemorySession
from chapkit.adapters.sql import ArtifactRepository, ConfigRepository
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.bootstrap.dependencies import current_runtime
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ports import ArtifactStore, ConfigStore

SessionDependency = Callable[[], AsyncIterator[Any]]
"""A FastAPI dependency yielding a session of the service's datastore."""


def config_repository_for(session: Any) -> ConfigStore:
    """The config repository for a session of either adapter (memory or SQL)."""
    if isinstance(session, InMemorySession):
        return InMemoryConfigStore(session)
    return ConfigRepository(session)


def artifact_repository_for(session: Any) -> ArtifactStore:
    """The artifact repository for a session of either adapter (memory or SQL)."""
    if isinstance(session, InMemorySession):
        return InMemoryArtifactStore(session)
    return ArtifactRepository(session)


async def datastore_session() -> AsyncIterator[Any]:
    """A session of the current service's datastore (SQL or memory), closed after the request."""
    async with current_runtime().require_database().session() as session:
        yield session


async def get_config_manager(session: Annotated[Any, Depends(datastore_session)]) -> ConfigManager[BaseConfig]:
    """Get a config manager instance for dependency injection.

    A service built with `with_config(schema)` answers with a manager bound to its schema instead.
    """
    return ConfigManager[BaseConfig](config_repository_for(session), BaseConfig)


async def get_artifact_manager(session: Annotated[Any, Depends(datastore_session)]) -> ArtifactManager:
    """Get an artifact manager instance for dependency injection.

    A service built with `with_artifacts(hierarchy=...)` answers with a manager bound to its hierarchy.
    """
    return ArtifactManager(artifact_repository_for(session), config_repo=config_repository_for(session))


def config_manager_dependency(
    schema: type[BaseConfig], session_dependency: SessionDependency
) -> Callable[..., Coroutine[Any, Any, ConfigManager[BaseConfig]]]:
    """A dependency giving config managers bound to `schema`, on the sessions `session_dependency` yields."""

    async def dependency(session: Any = Depends(session_dependency)) -> ConfigManager[BaseConfig]:
        return ConfigManager[BaseConfig](config_repository_for(session), schema)

    return dependency


def artifact_manager_dependency(
    hierarchy: ArtifactHierarchy, include_config: bool, session_dependency: SessionDependency
) -> Callable[..., Coroutine[Any, Any, ArtifactManager]]:
    """A dependency giving artifact managers bound to `hierarchy` (and to configs when `include_config`)."""

    async def dependency(session: Any = Depends(session_dependency)) -> ArtifactManager:
        config_repo = config_repository_for(session) if include_config else None
        return ArtifactManager(artifact_repository_for(session), hierarchy=hierarchy, config_repo=config_repo)

    return dependency


__all__ = [
    "artifact_manager_dependency",
    "artifact_repository_for",
    "config_manager_dependency",
    "config_repository_for",
    "datastore_session",
    "get_artifact_manager",
    "get_config_manager",
]
