"""The task module of a service: its manager dependencies (D5) and the start-up check of Python tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI

from chapkit.adapters.http.crud import CrudPermissions
from chapkit.adapters.observability import get_logger
from chapkit.adapters.scheduler.references import InstanceProvider
from chapkit.application.task_manager import TaskManager
from chapkit.application.task_registry import TaskRegistry
from chapkit.bootstrap.dependencies import ServiceRuntime, current_runtime
from chapkit.bootstrap.manager_dependencies import current_unit_of_work
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.ports import UnitOfWork

logger = get_logger(__name__)

TASKS_NEED_ARTIFACTS = (
    "Task execution requires artifacts to store results. Call `with_artifacts(...)` before `with_tasks()`."
)


@dataclass(slots=True)
class TaskOptions:
    """What `with_tasks(...)` asked for."""

    prefix: str
    tags: list[str]
    permissions: CrudPermissions
    validate_on_startup: bool
    registry: TaskRegistry | None


def _task_manager(
    runtime: ServiceRuntime, uow: UnitOfWork, hierarchy: ArtifactHierarchy | None, registry: TaskRegistry | None
) -> TaskManager:
    manager: TaskManager = runtime.require_container().task_manager(uow, runtime.scheduler, hierarchy, registry)
    return manager


def task_manager_dependency(
    runtime: ServiceRuntime, hierarchy: ArtifactHierarchy | None, registry: TaskRegistry | None
) -> Callable[..., Coroutine[Any, Any, TaskManager]]:
    """A dependency giving task managers of `runtime`'s service, on the request's unit of work."""

    async def dependency(uow: UnitOfWork = Depends(runtime.unit_of_work_dependency)) -> TaskManager:
        return _task_manager(runtime, uow, hierarchy, registry)

    return dependency


def task_manager_provider(
    runtime: ServiceRuntime, hierarchy: ArtifactHierarchy | None, registry: TaskRegistry | None
) -> InstanceProvider:
    """The task manager a worker runs task jobs on: the service's own, on a unit of work of its own (D22)."""

    @asynccontextmanager
    async def manager() -> AsyncIterator[object]:
        async with runtime.unit_of_work() as uow:
            yield _task_manager(runtime, uow, hierarchy, registry)

    return manager


async def get_task_manager(uow: Annotated[UnitOfWork, Depends(current_unit_of_work)]) -> TaskManager:
    """Get a task manager instance for dependency injection.

    It belongs to the current service (D6): its scheduler (None without jobs), its artifact hierarchy
    and its task registry.
    """
    runtime = current_runtime()
    return _task_manager(runtime, uow, runtime.artifact_hierarchy, runtime.task_registry)


async def validate_and_disable_orphaned_tasks(app: FastAPI) -> int:
    """Validate Python tasks and disable orphaned ones that reference missing functions."""
    runtime: ServiceRuntime | None = getattr(app.state, "service_runtime", None)
    if runtime is None or runtime.container is None:
        logger.debug("tasks.validation.skipped", reason="no database")
        return 0
    async with runtime.unit_of_work(write=True) as uow:
        disabled = await _task_manager(
            runtime, uow, runtime.artifact_hierarchy, runtime.task_registry
        ).disable_orphaned_tasks()
    if disabled:
        logger.warning("tasks.orphaned.disabled_count", count=disabled)
    return disabled


async def validate_tasks_on_startup(app: FastAPI) -> None:
    """Start-up hook of `with_tasks(validate_on_startup=True)`: disable orphaned Python tasks."""
    await validate_and_disable_orphaned_tasks(app)


__all__ = [
    "TASKS_NEED_ARTIFACTS",
    "TaskOptions",
    "get_task_manager",
    "task_manager_dependency",
    "task_manager_provider",
    "validate_and_disable_orphaned_tasks",
    "validate_tasks_on_startup",
]
