"""FastAPI dependencies giving managers built by the service's container from a unit of work (D5, D21).

The one path from a route to a repository: the route depends on a manager dependency; that depends on
the service runtime's unit-of-work dependency (one unit per request, shared by every manager of the
request); the container's factory builds the manager on the unit's typed repositories.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request

from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.manager import BaseManager
from chapkit.bootstrap.dependencies import ServiceRuntime, current_runtime, writes
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ports import UnitOfWork


async def current_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """A unit of work of the current service (D6) for the request, closed after it."""
    async with current_runtime().unit_of_work(write=writes(request)) as uow:
        yield uow


async def get_config_manager(uow: Annotated[UnitOfWork, Depends(current_unit_of_work)]) -> ConfigManager[BaseConfig]:
    """Get a config manager instance for dependency injection.

    A service built with `with_config(schema)` answers with a manager bound to its schema instead.
    """
    runtime = current_runtime()
    manager: ConfigManager[BaseConfig] = runtime.require_container().config_manager(uow, runtime.config_schema)
    return manager


async def get_artifact_manager(uow: Annotated[UnitOfWork, Depends(current_unit_of_work)]) -> ArtifactManager:
    """Get an artifact manager instance for dependency injection.

    A service built with `with_artifacts(hierarchy=...)` answers with a manager bound to its hierarchy.
    """
    runtime = current_runtime()
    manager: ArtifactManager = runtime.require_container().artifact_manager(
        uow, runtime.artifact_hierarchy, runtime.artifact_includes_config
    )
    return manager


def config_manager_dependency(
    schema: type[BaseConfig], runtime: ServiceRuntime
) -> Callable[..., Coroutine[Any, Any, ConfigManager[BaseConfig]]]:
    """A dependency giving config managers bound to `schema`, on the units of work of `runtime`."""

    async def dependency(uow: UnitOfWork = Depends(runtime.unit_of_work_dependency)) -> ConfigManager[BaseConfig]:
        manager: ConfigManager[BaseConfig] = runtime.require_container().config_manager(uow, schema)
        return manager

    return dependency


def artifact_manager_dependency(
    hierarchy: ArtifactHierarchy, include_config: bool, runtime: ServiceRuntime
) -> Callable[..., Coroutine[Any, Any, ArtifactManager]]:
    """A dependency giving artifact managers bound to `hierarchy` (and to configs when `include_config`)."""

    async def dependency(uow: UnitOfWork = Depends(runtime.unit_of_work_dependency)) -> ArtifactManager:
        manager: ArtifactManager = runtime.require_container().artifact_manager(uow, hierarchy, include_config)
        return manager

    return dependency


def manager_dependency(
    model: type[Any], out_schema: type[Any]
) -> Callable[..., Coroutine[Any, Any, BaseManager[Any, Any, Any, Any]]]:
    """A dependency giving a `BaseManager` for your own entity `model`, on the current service's storage.

    It works on every storage, `memory://` included: `CrudRouter(manager_factory=manager_dependency(...))`.
    """

    async def dependency(
        uow: Annotated[UnitOfWork, Depends(current_unit_of_work)],
    ) -> BaseManager[Any, Any, Any, Any]:
        manager: BaseManager[Any, Any, Any, Any] = current_runtime().require_container().manager(uow, model, out_schema)
        return manager

    return dependency


__all__ = [
    "artifact_manager_dependency",
    "config_manager_dependency",
    "current_unit_of_work",
    "get_artifact_manager",
    "get_config_manager",
    "manager_dependency",
]
