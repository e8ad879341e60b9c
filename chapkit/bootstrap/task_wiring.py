"""How the container builds task managers: the storage's injectable types and the shell command runner.

Python tasks receive values by the type of their parameters. The application knows its own types
(`ArtifactManager`, `JobScheduler`, `Datastore`, `UnitOfWork`); the storage containers add theirs here:
on SQL an `AsyncSession` (the run's unit's session) and the `Database`; on memory:// both types are known
but unavailable (a required parameter of either type is a clear error there, D11).
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from chapkit.adapters.sql import Database
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.task_manager import Injectables, InjectablesFactory, TaskManager
from chapkit.application.task_registry import TaskRegistry
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.ports import CommandRunner, Datastore, JobScheduler, UnitOfWork


def _sql_injectables(datastore: Datastore, uow: UnitOfWork) -> Injectables:
    # The SQL storage container makes only SQL units of work: their own session is an AsyncSession.
    return {AsyncSession: uow.session, Database: datastore}


def _memory_injectables(uow: UnitOfWork) -> Injectables:
    del uow
    return {AsyncSession: None, Database: None}


def sql_task_injectables(datastore: Datastore) -> InjectablesFactory:
    """What Python tasks can receive by type on SQL storage, besides the application's own types."""
    return partial(_sql_injectables, datastore)


def memory_task_injectables() -> InjectablesFactory:
    """What Python tasks can receive by type on memory storage: SQL types are known but unavailable."""
    return _memory_injectables


def _job_artifact_manager(hierarchy: ArtifactHierarchy | None, uow: UnitOfWork) -> ArtifactManager:
    return ArtifactManager(uow.artifacts, hierarchy=hierarchy)


def task_manager_of(
    uow: UnitOfWork,
    scheduler: JobScheduler | None = None,
    hierarchy: ArtifactHierarchy | None = None,
    registry: TaskRegistry | None = None,
    *,
    datastore: Datastore,
    injectables: InjectablesFactory,
    command_runner: CommandRunner,
) -> TaskManager:
    """A task manager on the unit's tasks; its runs open units of their own on `datastore`."""
    return TaskManager(
        uow.tasks,
        scheduler,
        datastore,
        ArtifactManager(uow.artifacts, hierarchy=hierarchy),
        registry=registry,
        command_runner=command_runner,
        artifact_manager_factory=partial(_job_artifact_manager, hierarchy),
        injectables=injectables,
    )


__all__ = ["memory_task_injectables", "sql_task_injectables", "task_manager_of"]
