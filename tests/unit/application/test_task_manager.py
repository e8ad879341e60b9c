"""TaskManager on the memory adapter: execution rules, parameter injection, results as root artifacts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from ulid import ULID

from chapkit import ArtifactManager, Datastore, JobScheduler, TaskIn, TaskManager, TaskRegistry
from chapkit.domain.ports import CommandResult, CommandRunner, UnitOfWork
from chapkit.domain.task import TaskDisabledError, TaskExecutionUnavailableError, TaskNotFoundError
from chapkit.embedding import Storage, open_storage


class RecordingRunner(CommandRunner):
    """A trivially small fake: answers every command with a fixed result and remembers the commands."""

    def __init__(self, result: CommandResult) -> None:
        self.result = result
        self.calls: list[tuple[str, float | None]] = []

    async def run(self, command: str, *, timeout: float | None = None) -> CommandResult:
        self.calls.append((command, timeout))
        return self.result


@pytest.fixture
async def storage() -> AsyncIterator[Storage]:
    async with open_storage("memory://") as opened:
        yield opened


def manager(storage: Storage, uow: UnitOfWork, registry: TaskRegistry, runner: CommandRunner | None) -> TaskManager:
    return TaskManager(
        uow.tasks,
        storage.scheduler,
        storage.database,
        ArtifactManager(uow.artifacts),
        registry=registry,
        command_runner=runner,
    )


async def save(storage: Storage, task: TaskIn) -> ULID:
    async with storage.unit_of_work(write=True) as uow:
        return (await TaskManager(uow.tasks).save(task)).id


async def run_to_artifact(
    storage: Storage, task_id: ULID, registry: TaskRegistry, runner: CommandRunner | None = None
) -> Any:
    async with storage.unit_of_work(write=True) as uow:
        job_id = await manager(storage, uow, registry, runner).execute_task(task_id)
    assert storage.scheduler is not None
    await storage.scheduler.wait(job_id)
    record = await storage.scheduler.get_record(job_id)
    assert record.artifact_id is not None
    async with storage.unit_of_work() as uow:
        artifact = await uow.artifacts.find_by_id(record.artifact_id)
    assert artifact is not None and artifact.parent_id is None
    return artifact.data


async def test_a_shell_command_reaches_the_runner_as_its_own_text_only(storage: Storage) -> None:
    runner = RecordingRunner(CommandResult(exit_code=2, stdout="o", stderr="e", description="exited with code 2"))
    # Parameters are for Python tasks: nothing of them reaches the command line.
    task = TaskIn(command="prog 'a b' $HOME ;", timeout=3, parameters={"x": "$(touch pwned)"})
    task_id = await save(storage, task)
    data = await run_to_artifact(storage, task_id, TaskRegistry(), runner)
    assert runner.calls == [("prog 'a b' $HOME ;", 3.0)]
    assert data["exit_code"] == 2 and data["stdout"] == "o" and data["stderr"] == "e" and data["error"] is None
    assert data["task"]["command"] == "prog 'a b' $HOME ;"


async def test_execution_errors(storage: Storage) -> None:
    disabled = await save(storage, TaskIn(command="echo", enabled=False))
    registry = TaskRegistry()
    async with storage.unit_of_work() as uow:
        with pytest.raises(TaskNotFoundError) as unknown:
            await manager(storage, uow, registry, None).execute_task(ULID())
        assert isinstance(unknown.value, ValueError)
        with pytest.raises(TaskDisabledError, match="Cannot execute disabled task"):
            await manager(storage, uow, registry, None).execute_task(disabled)
        with pytest.raises(TaskExecutionUnavailableError, match="requires a scheduler"):
            await TaskManager(uow.tasks, None, storage.database, ArtifactManager(uow.artifacts)).execute_task(disabled)
        with pytest.raises(TaskExecutionUnavailableError, match="requires artifacts"):
            await TaskManager(uow.tasks, storage.scheduler, storage.database).execute_task(disabled)
    enabled = await save(storage, TaskIn(command="echo"))
    async with storage.unit_of_work() as uow:
        with pytest.raises(TaskExecutionUnavailableError, match="command runner"):
            await manager(storage, uow, registry, None).execute_task(enabled)


async def test_injection_of_application_types_and_optional_forms(storage: Storage) -> None:
    registry = TaskRegistry()
    seen: dict[str, Any] = {}

    @registry.register("probe")
    def probe(
        scheduler: JobScheduler,
        artifacts: ArtifactManager | None,
        database: Datastore,
        uow: UnitOfWork,
        given: int,
        defaulted: str = "default",
        **extra: Any,
    ) -> str:
        seen.update(scheduler=scheduler, artifacts=artifacts, database=database, uow=uow, given=given, extra=extra)
        return defaulted

    task_id = await save(storage, TaskIn(command="probe", task_type="python", parameters={"given": 7, "more": 1}))
    data = await run_to_artifact(storage, task_id, registry)
    assert data["error"] is None and data["result"] == "default"
    assert seen["scheduler"] is storage.scheduler and seen["database"] is storage.database
    assert isinstance(seen["artifacts"], ArtifactManager) and isinstance(seen["uow"], UnitOfWork)
    assert seen["given"] == 7 and seen["extra"] == {"more": 1}


async def test_python_timeout_is_recorded(storage: Storage) -> None:
    registry = TaskRegistry()

    @registry.register("forever")
    async def forever() -> None:
        import asyncio

        await asyncio.Event().wait()

    task_id = await save(storage, TaskIn(command="forever", task_type="python", timeout=0.05))
    data = await run_to_artifact(storage, task_id, registry)
    assert data["result"] is None
    assert data["error"]["type"] == "TimeoutError"
    assert data["error"]["message"] == "Task timed out after 0.05 s"


async def test_disable_orphaned_tasks(storage: Storage) -> None:
    registry = TaskRegistry()
    registry.register_function("known", len)
    orphan = await save(storage, TaskIn(command="ghost", task_type="python"))
    await save(storage, TaskIn(command="known", task_type="python"))
    async with storage.unit_of_work(write=True) as uow:
        assert await manager(storage, uow, registry, None).disable_orphaned_tasks() == 1
    async with storage.unit_of_work() as uow:
        tasks = TaskManager(uow.tasks)
        assert [task.id for task in await tasks.find_all(enabled=False)] == [orphan]
