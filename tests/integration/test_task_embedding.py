"""Tasks from plain Python: `open_storage`, units of work and the container's task manager, on every backend."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

from ulid import ULID

from chapkit import ArtifactHierarchy, TaskIn, TaskRegistry
from chapkit.embedding import Storage
from tests.integration.runners.conftest import has_ended, new_marker, pid_reports, write_family_script

HIERARCHY = ArtifactHierarchy(name="runs", level_labels={0: "run"})


async def execute(storage: Storage, registry: TaskRegistry, task: TaskIn) -> ULID:
    async with storage.unit_of_work(write=True) as uow:
        tasks = storage.task_manager(uow, HIERARCHY, registry)
        saved = await tasks.save(task)
        return await tasks.execute_task(saved.id)


async def result_of(storage: Storage, job_id: ULID) -> Any:
    assert storage.scheduler is not None
    await storage.scheduler.wait(job_id)
    record = await storage.scheduler.get_record(job_id)
    assert record.status == "completed" and record.artifact_id is not None
    async with storage.unit_of_work() as uow:
        artifact = await storage.artifact_manager(uow, HIERARCHY).find_by_id(record.artifact_id)
    assert artifact is not None
    return artifact.data


async def test_shell_and_python_tasks_run_as_jobs(storage: Storage) -> None:
    registry = TaskRegistry()
    registry.register_function("double", lambda value: value * 2)
    code = "import sys; print(sys.argv[1]); sys.exit(4)"
    shell = await result_of(
        storage, await execute(storage, registry, TaskIn(command=shlex.join([sys.executable, "-c", code, "hi there"])))
    )
    assert (shell["stdout"], shell["exit_code"]) == ("hi there\n", 4)
    python = await result_of(
        storage,
        await execute(storage, registry, TaskIn(command="double", task_type="python", parameters={"value": 21})),
    )
    assert python["result"] == 42 and python["error"] is None


async def test_cancelling_a_shell_job_kills_its_process_group(storage: Storage, tmp_path: Path) -> None:
    script, marker = write_family_script(tmp_path), new_marker()
    assert storage.scheduler is not None
    async with pid_reports() as reports:
        command = shlex.join([sys.executable, str(script), "wait", marker, reports.address])
        job_id = await execute(storage, TaskRegistry(), TaskIn(command=command))
        child, grandchild = await reports.next()
        assert await storage.scheduler.cancel(job_id) is True
    assert (await storage.scheduler.get_record(job_id)).status == "canceled"
    assert has_ended(child, marker)
    assert has_ended(grandchild, marker)
