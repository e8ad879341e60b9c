"""The task store port's contract, run unchanged on memory, SQLite (memory, file) and PostgreSQL."""

from __future__ import annotations

from ulid import ULID

from chapkit import Task
from chapkit.embedding import Storage


async def _tasks(storage: Storage, *tasks: Task) -> list[ULID]:
    async with storage.unit_of_work(write=True) as uow:
        saved = list(await uow.tasks.save_all(tasks))
        await uow.commit()
    return [task.id for task in saved if task.id is not None]


async def test_tasks_round_trip_with_their_defaults(storage: Storage) -> None:
    [shell_id, python_id] = await _tasks(
        storage,
        Task(command="echo hello"),
        Task(command="add", task_type="python", parameters={"a": 1, "b": [2, {"c": None}]}, timeout=2.5),
    )
    async with storage.unit_of_work() as uow:
        shell = await uow.tasks.find_by_id(shell_id)
        python = await uow.tasks.find_by_id(python_id)
    assert shell is not None and python is not None
    assert (shell.command, shell.task_type, shell.parameters, shell.enabled, shell.timeout) == (
        "echo hello",
        "shell",
        None,
        True,
        None,
    )
    assert python.task_type == "python" and python.parameters == {"a": 1, "b": [2, {"c": None}]}
    assert python.timeout == 2.5
    assert shell.created_at is not None and shell.created_at == shell.updated_at
    assert shell.created_at.tzinfo is not None


async def test_find_by_enabled_and_find_all_filter_ordered_by_id(storage: Storage) -> None:
    ids = await _tasks(
        storage,
        Task(command="true"),
        Task(command="false", enabled=False),
        Task(command="echo", enabled=True),
        Task(command="f", task_type="python", enabled=False),
    )
    async with storage.unit_of_work() as uow:
        repo = uow.tasks
        assert [t.id for t in await repo.find_by_enabled(True)] == [ids[0], ids[2]]
        assert [t.id for t in await repo.find_by_enabled(False)] == [ids[1], ids[3]]
        assert [t.id for t in await repo.find_all(enabled=False)] == [ids[1], ids[3]]
        assert [t.id for t in await repo.find_all()] == ids
        assert [t.id for t in await repo.find_all(enabled=None)] == ids


async def test_updates_and_deletes_are_staged_until_commit(storage: Storage) -> None:
    [task_id] = await _tasks(storage, Task(command="echo one"))
    async with storage.unit_of_work(write=True) as uow:
        task = await uow.tasks.find_by_id(task_id)
        assert task is not None
        task.enabled = False
        task.command = "echo two"
        await uow.tasks.save(task)
        # not committed: discarded
    async with storage.unit_of_work(write=True) as uow:
        task = await uow.tasks.find_by_id(task_id)
        assert task is not None and task.enabled and task.command == "echo one"
        await uow.tasks.save(Task(id=task_id, command="echo three", enabled=False))
        await uow.commit()
    async with storage.unit_of_work(write=True) as uow:
        task = await uow.tasks.find_by_id(task_id)
        assert task is not None and task.command == "echo three" and not task.enabled
        assert await uow.tasks.find_by_enabled(True) == []
        await uow.tasks.delete_by_id(task_id)
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert await uow.tasks.count() == 0
        assert await uow.tasks.find_by_id(task_id) is None


async def test_the_unit_gives_the_same_task_store_each_time(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        assert uow.tasks is uow.tasks
        assert uow.tasks is uow.repository(Task)
