"""Tasks over HTTP on memory, an SQLite file and PostgreSQL: CRUD, execution, results, cancel, timeout."""

from __future__ import annotations

import shlex
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from ulid import ULID

from chapkit import (
    ArtifactHierarchy,
    ArtifactManager,
    Database,
    Datastore,
    JobScheduler,
    ServiceBuilder,
    Task,
    TaskManager,
    TaskRegistry,
    get_task_manager,
    validate_and_disable_orphaned_tasks,
)
from chapkit.domain.ports import UnitOfWork
from tests.integration.http.conftest import emptied_postgres_url, info, serve
from tests.integration.runners.conftest import has_ended, new_marker, pid_reports, processes_with, write_family_script

TASKS = "/api/v1/tasks"
JOBS = "/api/v1/jobs"
ARTIFACTS = "/api/v1/artifacts"
PY = sys.executable
HIERARCHY = ArtifactHierarchy(name="task_runs", level_labels={0: "run"})
# A single command replaces the shell; after `;` or in a pipeline the script is the shell's child, and
# the whole group must die, not only the shell.
SHELL_FORMS = {"single": "{}", "sequence": "{} ; echo after", "pipeline": "{} | cat"}


def python_command(code: str, *args: str) -> str:
    """A shell task's command that runs `code` with this Python (quoted as its owner would write it)."""
    return shlex.join([PY, "-c", code, *args])


def registry() -> TaskRegistry:
    """A registry of this test's own: two services in one process do not share functions."""
    tasks = TaskRegistry()

    @tasks.register("add")
    def add(a: int, b: int = 10) -> dict[str, Any]:
        return {"sum": a + b, "worker_thread": threading.current_thread() is not threading.main_thread()}

    @tasks.register("fail")
    async def fail(reason: str) -> None:
        raise ValueError(f"failed because {reason}")

    @tasks.register("injected")
    async def injected(
        uow: UnitOfWork,
        artifacts: ArtifactManager,
        scheduler: JobScheduler,
        database: Datastore,
        maybe_session: AsyncSession | None = None,
        label: str = "x",
    ) -> dict[str, Any]:
        return {
            "tasks": await uow.tasks.count(),
            "artifacts": await artifacts.count(),
            "scheduler": scheduler.name,
            "database": type(database).__name__,
            "session": maybe_session is not None,
            "label": label,
        }

    @tasks.register("count_tasks")
    async def count_tasks(session: AsyncSession, database: Database) -> int:
        result = await session.execute(select(func.count()).select_from(Task))
        return int(result.scalar_one())

    return tasks


def task_app(url: str, tasks: TaskRegistry | None = None, **options: Any) -> FastAPI:
    return (
        ServiceBuilder(info=info("Task Service"))
        .with_database(url)
        .with_artifacts(hierarchy=HIERARCHY)
        .with_jobs()
        .with_tasks(registry=tasks if tasks is not None else registry(), **options)
        .build()
    )


async def create(client: httpx.AsyncClient, **body: Any) -> str:
    response = await client.post(TASKS, json=body)
    assert response.status_code == 201, response.text
    task_id: str = response.json()["id"]
    return task_id


async def execute(client: httpx.AsyncClient, task_id: str) -> str:
    response = await client.post(f"{TASKS}/{task_id}/$execute")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["message"] == f"Task submitted for execution. Job ID: {body['job_id']}"
    job_id: str = body["job_id"]
    return job_id


async def run(app: FastAPI, client: httpx.AsyncClient, task_id: str) -> tuple[dict[str, Any], Any]:
    """Execute the task, wait for its job, and return the job record and the result artifact's data."""
    job_id = await execute(client, task_id)
    await app.state.scheduler.wait(ULID.from_str(job_id))
    record = (await client.get(f"{JOBS}/{job_id}")).json()
    assert record["status"] == "completed", record
    artifact = (await client.get(f"{ARTIFACTS}/{record['artifact_id']}")).json()
    assert artifact["parent_id"] is None and artifact["level"] == 0
    return record, artifact["data"]


async def test_crud_and_enabled_filter(storage_url: str) -> None:
    async with serve(task_app(storage_url)) as client:
        first = await create(client, command="echo one")
        second = await create(client, command="add", task_type="python", parameters={"a": 1}, enabled=False)
        third = await create(client, command="echo three", timeout=2.5)
        listed = (await client.get(TASKS)).json()
        assert [task["id"] for task in listed] == [first, second, third]
        assert listed[0] | {"id": None, "created_at": None, "updated_at": None} == {
            "id": None,
            "command": "echo one",
            "task_type": "shell",
            "parameters": None,
            "enabled": True,
            "timeout": None,
            "created_at": None,
            "updated_at": None,
        }
        assert [t["id"] for t in (await client.get(TASKS, params={"enabled": "false"})).json()] == [second]
        assert [t["id"] for t in (await client.get(TASKS, params={"enabled": "true"})).json()] == [first, third]
        page = (await client.get(TASKS, params={"page": 1, "size": 2})).json()
        assert page["total"] == 3 and len(page["items"]) == 2
        updated = await client.put(f"{TASKS}/{first}", json={"command": "echo uno", "enabled": False})
        assert updated.status_code == 200 and updated.json()["command"] == "echo uno"
        assert (await client.delete(f"{TASKS}/{third}")).status_code == 204
        assert (await client.get(f"{TASKS}/{third}")).status_code == 404
        schema = (await client.get(f"{TASKS}/$schema")).json()
        assert "command" in schema["properties"]


@pytest.mark.parametrize(
    "body",
    [
        {"command": "   "},
        {"command": "\n\t"},
        {"command": "", "task_type": "python"},
        {"command": "x", "task_type": "perl"},
        {"command": "echo", "timeout": 0},
        {"command": "echo", "enabled": 0},
        {"command": "echo", "enabled": "true"},
        {"command": "echo", "timeout": "5"},
        {"command": "echo", "timeout": True},
    ],
)
async def test_invalid_tasks_are_refused(body: dict[str, Any]) -> None:
    async with serve(task_app("memory://")) as client:
        assert (await client.post(TASKS, json=body)).status_code == 422


async def test_the_task_schema_says_what_is_refused() -> None:
    """A blank command, a number for `enabled`: what the handler refuses, the schema does not call valid."""
    async with serve(task_app("memory://")) as client:
        document = (await client.get("/openapi.json")).json()
    properties = document["components"]["schemas"]["TaskIn"]["properties"]
    assert properties["command"]["pattern"] == r"\S"
    assert properties["enabled"]["type"] == "boolean"
    assert {"type": "number", "exclusiveMinimum": 0} in properties["timeout"]["anyOf"]


async def test_shell_task_runs_through_sh_with_pipes_and_redirects(storage_url: str) -> None:
    app = task_app(storage_url)
    async with serve(app) as client:
        command = "printf 'a\\nb\\n' | wc -l; >&2 echo x && echo done"
        task_id = await create(client, command=command, parameters={"ignored": "$(echo injected)"})
        _, data = await run(app, client, task_id)
        assert data["exit_code"] == 0 and data["error"] is None and data["timed_out"] is False
        assert data["stdout"].split() == ["2", "done"]
        assert data["stderr"] == "x\n"
        assert data["task"]["id"] == task_id and data["task"]["command"] == command


async def test_a_shell_syntax_error_is_recorded_as_the_shell_reports_it() -> None:
    app = task_app("memory://")
    async with serve(app) as client:
        _, data = await run(app, client, await create(client, command="echo 'unbalanced"))
        assert data["exit_code"] == 2 and data["error"] is None
        assert "sh" in data["stderr"] and data["stdout"] == ""


async def test_shell_task_non_zero_exit(storage_url: str) -> None:
    app = task_app(storage_url)
    async with serve(app) as client:
        code = "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)"
        _, data = await run(app, client, await create(client, command=python_command(code)))
        assert (data["exit_code"], data["stdout"], data["stderr"], data["error"]) == (3, "out\n", "err\n", None)


async def test_shell_task_whose_program_does_not_exist(tmp_path: Path) -> None:
    app = task_app("memory://")
    async with serve(app) as client:
        _, data = await run(app, client, await create(client, command=f"{tmp_path}/no-such-program --flag"))
        assert data["exit_code"] == 127 and data["error"] is None  # as a shell reports it
        assert f"{tmp_path}/no-such-program: not found" in data["stderr"]


@pytest.mark.parametrize("form", ["single", "sequence"])
async def test_shell_task_timeout_kills_the_process_group(storage_url: str, tmp_path: Path, form: str) -> None:
    app = task_app(storage_url)
    marker = new_marker()
    async with serve(app) as client:
        sleeper = python_command("import sys, time; print('started', flush=True); time.sleep(600)", marker)
        command = SHELL_FORMS[form].format(sleeper)
        _, data = await run(app, client, await create(client, command=command, timeout=1.0))
        assert data["timed_out"] is True
        assert data["exit_code"] == -15
        assert data["error"] == {"type": "TimeoutError", "message": "Command timed out after 1 s", "traceback": None}
        assert data["task"]["timeout"] == 1.0
        assert "after" not in data["stdout"]  # the shell died with its group, it did not go on
        assert all(has_ended(pid, marker) for pid in processes_with(marker))


@pytest.mark.parametrize("form", SHELL_FORMS)
@pytest.mark.parametrize("how", ["delete", "cancel"])
async def test_ending_a_running_shell_job_kills_its_process_group(
    storage_url: str, tmp_path: Path, how: str, form: str
) -> None:
    app = task_app(storage_url)
    script, marker = write_family_script(tmp_path), new_marker()
    async with serve(app) as client, pid_reports() as reports:
        command = SHELL_FORMS[form].format(shlex.join([PY, str(script), "wait", marker, reports.address]))
        task_id = await create(client, command=command)
        job_id = await execute(client, task_id)
        child, grandchild = await reports.next()
        if how == "delete":
            assert (await client.delete(f"{JOBS}/{job_id}")).status_code == 204
            assert (await client.get(f"{JOBS}/{job_id}")).status_code == 404
        else:
            assert await app.state.scheduler.cancel(ULID.from_str(job_id)) is True
            assert (await client.get(f"{JOBS}/{job_id}")).json()["status"] == "canceled"
        assert has_ended(child, marker)
        assert has_ended(grandchild, marker)
        assert (await client.get(ARTIFACTS)).json() == []  # a canceled run stores no result


async def test_python_tasks_sync_async_error_and_missing_parameter(storage_url: str) -> None:
    app = task_app(storage_url)
    async with serve(app) as client:
        _, data = await run(app, client, await create(client, command="add", task_type="python", parameters={"a": 5}))
        assert data["result"] == {"sum": 15, "worker_thread": True} and data["error"] is None
        assert data["task"]["parameters"] == {"a": 5}

        failing = await create(client, command="fail", task_type="python", parameters={"reason": "bad input"})
        _, data = await run(app, client, failing)
        assert data["result"] is None
        assert data["error"]["type"] == "ValueError"
        assert data["error"]["message"] == "failed because bad input"
        assert ", in fail\n" in data["error"]["traceback"]

        _, data = await run(app, client, await create(client, command="add", task_type="python"))
        assert data["error"]["type"] == "ValueError"
        assert "Missing required parameter 'a'" in data["error"]["message"]


async def test_python_task_injection(storage_url: str) -> None:
    app = task_app(storage_url)
    async with serve(app) as client:
        task_id = await create(client, command="injected", task_type="python", parameters={"label": "y"})
        _, data = await run(app, client, task_id)
        assert data["error"] is None
        result = data["result"]
        assert result["tasks"] == 1 and result["artifacts"] == 0 and result["label"] == "y"
        assert result["scheduler"] == app.state.scheduler.name
        assert result["database"] == type(app.state.database).__name__
        assert result["session"] is (storage_url != "memory://")


@pytest.mark.parametrize("url", ["sqlite_file", "postgres"])
async def test_python_task_gets_an_async_session_on_sql(url: str, request: pytest.FixtureRequest) -> None:
    sql_url = request.getfixturevalue("sqlite_file") if url == "sqlite_file" else await emptied_postgres_url(request)
    app = task_app(sql_url)
    async with serve(app) as client:
        await create(client, command="echo")
        _, data = await run(app, client, await create(client, command="count_tasks", task_type="python"))
        assert data["error"] is None and data["result"] == 2


async def test_a_required_session_on_memory_is_a_clear_error() -> None:
    app = task_app("memory://")
    async with serve(app) as client:
        _, data = await run(app, client, await create(client, command="count_tasks", task_type="python"))
        assert data["error"]["type"] == "ValueError"
        assert "'session'" in data["error"]["message"] and "AsyncSession" in data["error"]["message"]


async def test_execute_errors(storage_url: str) -> None:
    async with serve(task_app(storage_url)) as client:
        disabled = await create(client, command="echo", enabled=False)
        response = await client.post(f"{TASKS}/{disabled}/$execute")
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"] == f"Cannot execute disabled task {disabled}"
        unknown = str(ULID())
        response = await client.post(f"{TASKS}/{unknown}/$execute")
        # 400 as in the reference (D14), a problem naming the task.
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["type"] == "urn:chapkit:error:bad-request" and problem["status"] == 400
        assert problem["detail"] == f"Task {unknown} not found" and problem["task_id"] == unknown
        assert (await client.post(f"{TASKS}/not-a-ulid/$execute")).status_code == 400


async def test_unregistered_function_fails_the_job() -> None:
    app = task_app("memory://", validate_on_startup=False)
    async with serve(app) as client:
        job_id = await execute(client, await create(client, command="ghost", task_type="python"))
        with pytest.raises(ValueError, match="Python function 'ghost' not found in registry"):
            await app.state.scheduler.wait(ULID.from_str(job_id))
        record = (await client.get(f"{JOBS}/{job_id}")).json()
        assert record["status"] == "failed" and record["artifact_id"] is None


async def test_without_jobs_execution_is_refused() -> None:
    app = (
        ServiceBuilder(info=info())
        .with_database("memory://")
        .with_artifacts(hierarchy=HIERARCHY)
        .with_tasks(registry=TaskRegistry())
        .build()
    )
    async with serve(app) as client:
        task_id = await create(client, command="echo")
        response = await client.post(f"{TASKS}/{task_id}/$execute")
        assert response.status_code == 400
        assert response.json()["detail"] == (
            "Task execution requires a scheduler. Use ServiceBuilder.with_jobs() to enable."
        )


def test_tasks_need_artifacts() -> None:
    with pytest.raises(ValueError, match=r"Task execution requires artifacts to store results\."):
        ServiceBuilder(info=info()).with_tasks().build()


async def test_orphaned_python_tasks_are_disabled(storage_url: str) -> None:
    app = task_app(storage_url, validate_on_startup=False)
    async with serve(app) as client:
        orphan = await create(client, command="ghost", task_type="python")
        known = await create(client, command="add", task_type="python", parameters={"a": 1})
        shell = await create(client, command="ghost")
        assert await validate_and_disable_orphaned_tasks(app) == 1
        enabled = {task["id"]: task["enabled"] for task in (await client.get(TASKS)).json()}
        assert enabled == {orphan: False, known: True, shell: True}
        assert (await client.post(f"{TASKS}/{orphan}/$execute")).status_code == 400
        assert await validate_and_disable_orphaned_tasks(app) == 0


@pytest.mark.parametrize("validate", [True, False])
async def test_orphans_are_disabled_at_start_up(sqlite_file: str, validate: bool) -> None:
    async with serve(task_app(sqlite_file)) as client:
        orphan = await create(client, command="ghost", task_type="python")
    async with serve(task_app(sqlite_file, validate_on_startup=validate)) as client:
        assert (await client.get(f"{TASKS}/{orphan}")).json()["enabled"] is not validate


async def test_two_services_have_their_own_registries() -> None:
    first, second = TaskRegistry(), TaskRegistry()
    first.register_function("only_first", lambda: "first")
    app_one, app_two = task_app("memory://", first), task_app("memory://", second)
    async with serve(app_one) as one, serve(app_two) as two:
        _, data = await run(app_one, one, await create(one, command="only_first", task_type="python"))
        assert data["result"] == "first"
        orphan = await create(two, command="only_first", task_type="python")
        assert await validate_and_disable_orphaned_tasks(app_two) == 1
        assert (await two.get(f"{TASKS}/{orphan}")).json()["enabled"] is False


async def test_get_task_manager_in_a_custom_router() -> None:
    router = APIRouter()

    @router.get("/custom/enabled-commands")
    async def enabled_commands(manager: TaskManager = Depends(get_task_manager)) -> list[str]:
        return [task.command for task in await manager.find_all(enabled=True)]

    tasks = TaskRegistry()
    app = (
        ServiceBuilder(info=info())
        .with_database("memory://")
        .with_artifacts(hierarchy=HIERARCHY)
        .with_jobs()
        .with_tasks(registry=tasks)
        .include_router(router)
        .build()
    )
    async with serve(app) as client:
        await create(client, command="echo on")
        await create(client, command="echo off", enabled=False)
        assert (await client.get("/custom/enabled-commands")).json() == ["echo on"]


@pytest.mark.parametrize("form", SHELL_FORMS)
async def test_stopping_the_service_kills_a_running_command(tmp_path: Path, form: str) -> None:
    app = task_app("memory://")
    script, marker = write_family_script(tmp_path), new_marker()
    async with pid_reports() as reports:
        async with serve(app) as client:
            command = SHELL_FORMS[form].format(shlex.join([PY, str(script), "wait", marker, reports.address]))
            task_id = await create(client, command=command)
            await execute(client, task_id)
            child, grandchild = await reports.next()
        assert has_ended(child, marker)
        assert has_ended(grandchild, marker)
