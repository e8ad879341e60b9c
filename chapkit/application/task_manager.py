"""`TaskManager`: task templates, and their runs as jobs whose results are stored as root artifacts.

A run is a job of its own: it reads the task in a unit of work, runs it, and stores what happened
(a snapshot of the task; stdout, stderr and exit code, or the function's result or error) as a root
artifact in another unit (D21). The job returns that artifact as its `JobOutcome`, so the job's
`artifact_id` is that artifact's id. Nothing of the request that submitted the job is used once the job
runs.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import traceback
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Union

import anyio.to_thread
import structlog
from ulid import ULID

from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.manager import BaseManager
from chapkit.application.task_registry import TaskFunction, TaskRegistry
from chapkit.domain.artifact import ArtifactIn
from chapkit.domain.jobs import JobOutcome, job_name
from chapkit.domain.ports import CommandRunner, Datastore, JobScheduler, TaskStore, UnitOfWork
from chapkit.domain.task import (
    Task,
    TaskDisabledError,
    TaskExecutionUnavailableError,
    TaskIn,
    TaskNotFoundError,
    TaskOut,
    task_snapshot,
)

_logger = structlog.get_logger(__name__)

Injectables = Mapping[type, object | None]
"""Values a Python task's parameters may receive by type; `None` marks a type known but unavailable here."""

InjectablesFactory = Callable[[UnitOfWork], Injectables]
"""Adapter-specific injectables of a unit (the composition root gives `AsyncSession` and `Database` on SQL)."""

ArtifactManagerFactory = Callable[[UnitOfWork], ArtifactManager]

NO_SCHEDULER = "Task execution requires a scheduler. Use ServiceBuilder.with_jobs() to enable."
NO_ARTIFACTS = "Task execution requires artifacts. Use ServiceBuilder.with_artifacts() before with_tasks()."
NO_DATABASE = "Task execution requires a database to store its results."
NO_COMMAND_RUNNER = "Shell task execution requires a command runner (a task manager built by the service has one)."


class TaskManager(BaseManager[Task, TaskIn, TaskOut, ULID]):
    """Manager for Task template entities with artifact-based execution."""

    def __init__(
        self,
        repo: TaskStore,
        scheduler: JobScheduler | None = None,
        database: Datastore | None = None,
        artifact_manager: ArtifactManager | None = None,
        *,
        registry: TaskRegistry | None = None,
        command_runner: CommandRunner | None = None,
        artifact_manager_factory: ArtifactManagerFactory | None = None,
        injectables: InjectablesFactory | None = None,
        unit_of_work: Callable[..., UnitOfWork] | None = None,
    ) -> None:
        """Initialize task manager with repository, scheduler, database, and artifact manager.

        Runs open their units of work from `unit_of_work` (the container passes its own factory, D21),
        else from `database.unit_of_work`.

        `registry` holds the Python tasks' functions (the default registry when None); `command_runner`
        runs shell tasks; `artifact_manager_factory` builds the artifact manager a run stores its result
        with (by default one like `artifact_manager`, on the run's own unit of work); `injectables` adds
        the storage's own types (`AsyncSession`, `Database`) to what Python tasks can receive.
        """
        super().__init__(repo, Task, TaskOut)
        self.repo: TaskStore = repo
        self.scheduler = scheduler
        self.database = database
        self.artifact_manager = artifact_manager
        self.registry = registry if registry is not None else TaskRegistry.default()
        self.command_runner = command_runner
        self._artifact_manager_factory = artifact_manager_factory
        self._injectables = injectables
        self._unit_of_work = unit_of_work

    async def find_all(self, *, enabled: bool | None = None) -> list[TaskOut]:
        """Find all tasks, optionally filtered by enabled status."""
        return [self._to_output_schema(task) for task in await self.repo.find_all(enabled=enabled)]

    # ---------------------------------------------------------------- execution

    async def execute_task(self, task_id: ULID) -> ULID:
        """Execute a task by submitting it to the scheduler and return the job ID.

        Raises `TaskExecutionUnavailableError` (400) without a scheduler, artifacts or database,
        `TaskNotFoundError` for an unknown task (`$execute` answers it with 400, as the reference, D14)
        and `TaskDisabledError` (400) for a disabled one; all three are `ValueError`s, as in the reference.
        """
        if self.scheduler is None:
            raise TaskExecutionUnavailableError(NO_SCHEDULER)
        if self.artifact_manager is None and self._artifact_manager_factory is None:
            raise TaskExecutionUnavailableError(NO_ARTIFACTS)
        if self.database is None:
            raise TaskExecutionUnavailableError(NO_DATABASE)
        task = await self.repo.find_by_id(task_id)
        if task is None:
            raise TaskNotFoundError(f"Task {task_id} not found")
        if not task.enabled:
            raise TaskDisabledError(f"Cannot execute disabled task {task_id}")
        if task.task_type == "python":
            return await self.scheduler.add_job(self._execute_python, task_id)
        if self.command_runner is None:
            raise TaskExecutionUnavailableError(NO_COMMAND_RUNNER)
        return await self.scheduler.add_job(self._execute_command, task_id)

    @job_name("chapkit.tasks.shell")
    async def _execute_command(self, task_id: ULID) -> JobOutcome:
        """Run a shell task's command; the job's outcome is the artifact holding what happened."""
        task = await self._load(task_id)
        outcome = await self._run_command(task)
        return await self._store_result({"task": task_snapshot(task), **outcome})

    async def _run_command(self, task: Task) -> dict[str, Any]:
        """Run the command through `/bin/sh -c` (D23); a timeout or a cancellation kills its process group.

        Only the task's own command text reaches the shell; its `parameters` are for Python tasks. A
        non-zero exit, a program the shell cannot find (127) and a shell syntax error (2) are results,
        recorded with their stderr; `error` is set only for a timeout or a shell that cannot start.
        """
        runner = self.command_runner
        if runner is None:
            raise RuntimeError(NO_COMMAND_RUNNER)
        outcome: dict[str, Any] = {"stdout": "", "stderr": "", "exit_code": None, "timed_out": False, "error": None}
        try:
            result = await runner.run(task.command, timeout=task.timeout)
        except (OSError, ValueError) as error:  # the shell cannot start, or the stored command is blank
            outcome["error"] = {"type": type(error).__name__, "message": str(error), "traceback": None}
            return outcome
        outcome.update(
            stdout=result.stdout,
            stderr=result.stderr,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            stdout_truncated=result.stdout_truncated,
            stderr_truncated=result.stderr_truncated,
        )
        if result.timed_out:
            outcome["error"] = {"type": "TimeoutError", "message": f"Command {result.description}", "traceback": None}
        return outcome

    @job_name("chapkit.tasks.python")
    async def _execute_python(self, task_id: ULID) -> JobOutcome:
        """Call a Python task's function; the job's outcome is the artifact holding its result or error."""
        task = await self._load(task_id)
        try:
            func = self.registry.get(task.command)
        except KeyError:
            raise ValueError(f"Python function '{task.command}' not found in registry") from None
        # The function's own unit: its injected session and managers share it. No write intent is
        # declared (an SQLite file would hold its write turn for the whole call); it takes the turn at
        # its first write. Whatever the function did not commit is discarded when it returns.
        async with self._open_unit() as uow:
            try:
                parameters = self._inject_parameters(func, task.parameters or {}, uow)
                result = await _call(func, parameters, task.timeout)
                outcome: dict[str, Any] = {"result": result, "error": None}
            except Exception as error:
                outcome = {
                    "result": None,
                    "error": {"type": type(error).__name__, "message": str(error), "traceback": traceback.format_exc()},
                }
        return await self._store_result({"task": task_snapshot(task), **outcome})

    def _inject_parameters(self, func: TaskFunction, user_params: dict[str, Any], uow: UnitOfWork) -> dict[str, Any]:
        """Merge user parameters with framework injections based on the function's signature.

        A parameter annotated with an injectable type (or its `Optional` form) receives the value; when
        the type is known but unavailable here (`AsyncSession` on memory://) it gets None if it is optional
        or has a default, and is an error naming it otherwise. Any other parameter must be given in
        `parameters` or have a default: a `ValueError` names the one that is missing.
        """
        injections = self._injections(uow)
        final = dict(user_params)
        try:
            hints = typing.get_type_hints(func)
        except Exception:  # annotations that do not resolve: nothing can be injected by type
            hints = {}
        for name, parameter in inspect.signature(func).parameters.items():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                continue
            injectable, optional = _injectable_type(hints.get(name), injections)
            has_default = parameter.default is not parameter.empty
            if injectable is not None:
                value = injections[injectable]
                if value is not None:
                    final[name] = value
                elif not has_default and not optional:
                    raise ValueError(
                        f"Missing required parameter '{name}' for task function: "
                        f"{injectable.__name__} cannot be injected on this storage."
                    )
                elif not has_default:
                    final[name] = None
                continue
            if name not in final and not has_default:
                raise ValueError(
                    f"Missing required parameter '{name}' for task function. "
                    "Parameter is not injectable and not provided in task.parameters."
                )
        return final

    def _injections(self, uow: UnitOfWork) -> dict[type, object | None]:
        """Everything a Python task can receive by type, for a run on `uow`."""
        injections: dict[type, object | None] = {
            ArtifactManager: self._artifact_manager_for(uow),
            JobScheduler: self.scheduler,
            Datastore: self.database,
            UnitOfWork: uow,
        }
        if self._injectables is not None:
            injections.update(self._injectables(uow))
        return injections

    # ---------------------------------------------------------------- helpers

    def _require_database(self) -> Datastore:
        if self.database is None:
            raise RuntimeError(NO_DATABASE)
        return self.database

    def _artifact_manager_for(self, uow: UnitOfWork) -> ArtifactManager:
        if self._artifact_manager_factory is not None:
            return self._artifact_manager_factory(uow)
        hierarchy = self.artifact_manager.hierarchy if self.artifact_manager is not None else None
        return ArtifactManager(uow.artifacts, hierarchy=hierarchy)

    def _open_unit(self, *, write: bool = False) -> UnitOfWork:
        """A unit of work of the run's own: from the container's factory, else from the database."""
        if self._unit_of_work is not None:
            return self._unit_of_work(write=write)
        return self._require_database().unit_of_work(write=write)

    async def _load(self, task_id: ULID) -> Task:
        """Read the task in a unit of its own (the request's unit is gone by the time the job runs)."""
        async with self._open_unit() as uow:
            task = await uow.tasks.find_by_id(task_id)
        if task is None:
            raise TaskNotFoundError(f"Task {task_id} not found")
        return task

    async def _store_result(self, data: dict[str, Any]) -> JobOutcome:
        """Store a run's outcome as a root artifact: the job's outcome."""
        async with self._open_unit(write=True) as uow:
            saved = await self._artifact_manager_for(uow).save(ArtifactIn(data=data, parent_id=None))
        return JobOutcome(artifact_id=saved.id)

    # ---------------------------------------------------------------- start-up validation

    async def disable_orphaned_tasks(self) -> int:
        """Disable the Python tasks whose function is not registered; return how many were disabled."""
        registered = set(self.registry.list_all())
        orphaned = [
            task for task in await self.repo.find_all() if task.task_type == "python" and task.command not in registered
        ]
        if not orphaned:
            _logger.debug("tasks.orphaned.none")
            return 0
        _logger.warning(
            "tasks.orphaned.disabling",
            count=len(orphaned),
            task_ids=[str(task.id) for task in orphaned],
            commands=[task.command for task in orphaned],
        )
        changed = 0
        for task in orphaned:
            if task.enabled:
                _logger.info("tasks.orphaned.disabled", task_id=str(task.id), command=task.command)
                task.enabled = False
                await self.repo.save(task)
                changed += 1
        await self.repo.commit()
        return changed


def _injectable_type(hint: Any, injections: Mapping[type, object | None]) -> tuple[type | None, bool]:
    """The injectable type a parameter is annotated with (`T` or `T | None`), and whether None is allowed."""
    if hint is None:
        return None, False
    optional = False
    if typing.get_origin(hint) in (Union, types.UnionType):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(members) != 1:
            return None, False
        optional, hint = True, members[0]
    return (hint, optional) if isinstance(hint, type) and hint in injections else (None, False)


async def _call(func: TaskFunction, parameters: dict[str, Any], timeout: float | None) -> Any:
    """Await a coroutine function, or run a plain one on a worker thread; `timeout` raises `TimeoutError`.

    A plain function that times out cannot be interrupted: the run records the timeout and the thread
    finishes on its own.
    """
    scope = asyncio.timeout(timeout)
    try:
        async with scope:
            if inspect.iscoroutinefunction(func):
                return await func(**parameters)
            result = await anyio.to_thread.run_sync(functools.partial(func, **parameters), abandon_on_cancel=True)
            if inspect.isawaitable(result):  # a callable object that returns a coroutine
                return await result
            return result
    except TimeoutError:
        if scope.expired():
            raise TimeoutError(f"Task timed out after {timeout:g} s") from None
        raise


__all__ = ["ArtifactManagerFactory", "InjectablesFactory", "Injectables", "TaskManager"]
