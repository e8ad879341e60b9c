"""The distributed scheduler beyond the port's contract (D22): jobs by reference, queued cancels, the
task module's jobs on a worker, and how a service chooses its backend."""

from __future__ import annotations

import asyncio
import functools
import types
from collections.abc import AsyncIterator
from contextlib import suppress

import pytest
from pydantic import BaseModel
from ulid import ULID

from chapkit import ArtifactHierarchy, JobStatus, ServiceBuilder, ServiceInfo
from chapkit.adapters.scheduler.distributed import WORKER_TASK, ProcrastinateJobScheduler
from chapkit.adapters.scheduler.records import utc_now
from chapkit.adapters.scheduler.references import DISTRIBUTED_ALTERNATIVE, JobNotDistributableError
from chapkit.adapters.sql.job_queue import DISTRIBUTED_NEEDS_POSTGRES
from chapkit.bootstrap.jobs_backend import JobsSettings
from chapkit.bootstrap.worker import run_worker
from chapkit.domain.jobs import JobOutcome
from chapkit.domain.ports.job_store import QUEUED_OWNER
from chapkit.domain.ports.scheduler import NO_QUEUE
from chapkit.embedding import open_storage
from chapkit.testing import serve_app
from examples.tasks.main import registry
from tests.support.distributed import running_distributed

pytestmark = pytest.mark.postgres


class Order(BaseModel):
    """An argument that travels as JSON and arrives as itself."""

    item: str
    count: int


def total(order: Order, *, price: float) -> dict[str, object]:
    """A module-level target taking a pydantic model."""
    assert isinstance(order, Order)
    return {"item": order.item, "total": order.count * price}


async def _value(x: int) -> int:
    return x


async def _artifact(artifact: ULID) -> ULID:
    """A job of a user's own that returns the id of the artifact it stored."""
    return artifact


async def _outcome(artifact: ULID) -> JobOutcome:
    """A job that says what it stored, as chapkit's own jobs do."""
    return JobOutcome(artifact_id=artifact)


class Unregistered:
    async def run(self) -> None:
        """A method of an object the service does not provide to workers."""


@pytest.fixture
async def idle(postgres_url: str) -> AsyncIterator[ProcrastinateJobScheduler]:
    """A distributed scheduler with no worker running."""
    async with running_distributed(postgres_url, worker=False) as scheduler:
        yield scheduler


async def test_arguments_travel_as_json_typed_by_the_targets_annotations(postgres_url: str) -> None:
    async with running_distributed(postgres_url) as scheduler:
        job_id = await scheduler.add_job(total, Order(item="nets", count=3), price=2.5)
        await scheduler.wait(job_id, timeout=30)
        assert await scheduler.get_result(job_id) == {"item": "nets", "total": 7.5}


async def test_an_outcome_is_kept_as_the_json_a_returned_ulid_is_kept_as(postgres_url: str) -> None:
    async with running_distributed(postgres_url) as scheduler:
        returned, said = ULID(), ULID()
        by_ulid = await scheduler.add_job(_artifact, returned)
        by_outcome = await scheduler.add_job(_outcome, said)
        await scheduler.wait(by_ulid, timeout=30)
        await scheduler.wait(by_outcome, timeout=30)
        assert await scheduler.store.get_result(by_ulid) == f'"{returned}"'
        assert await scheduler.store.get_result(by_outcome) == f'"{said}"'
        assert (await scheduler.get_record(by_outcome)).artifact_id == said
        assert await scheduler.get_result(by_outcome) == said


def _closure_target() -> object:
    async def inner() -> None: ...

    return inner


@pytest.mark.parametrize(
    ("target", "why"),
    [
        (lambda: None, "closure or lambda"),
        (_closure_target(), "closure or lambda"),
        (functools.partial(_value, 1), "no importable name"),
        (Unregistered().run, "does not provide to workers"),
    ],
    ids=["lambda", "closure", "partial", "unregistered-method"],
)
async def test_a_target_a_worker_could_not_import_is_refused_and_nothing_is_queued(
    idle: ProcrastinateJobScheduler, target: object, why: str
) -> None:
    with pytest.raises(JobNotDistributableError, match=why) as refused:
        await idle.add_job(target)  # type: ignore[arg-type]
    assert DISTRIBUTED_ALTERNATIVE in str(refused.value)
    assert await idle.get_all_records() == []


async def test_a_function_of_the_running_script_is_refused(idle: ProcrastinateJobScheduler) -> None:
    scripted = types.FunctionType(_value.__code__, {}, "scripted")
    scripted.__module__ = "__main__"
    with pytest.raises(JobNotDistributableError, match="script being run"):
        await idle.add_job(scripted, 1)


async def test_coroutine_objects_and_arguments_that_cannot_travel_are_refused(idle: ProcrastinateJobScheduler) -> None:
    coroutine = _value(1)
    with pytest.raises(JobNotDistributableError, match="awaitable"):
        await idle.add_job(coroutine)
    coroutine.close()
    with pytest.raises(JobNotDistributableError, match="argument `x`"):
        await idle.add_job(_value, object())
    with pytest.raises(TypeError, match="cannot take these arguments"):
        await idle.add_job(_value, 1, 2)
    assert await idle.get_all_records() == []


async def test_a_queued_job_canceled_before_any_worker_runs_never_runs(idle: ProcrastinateJobScheduler) -> None:
    job_id = await idle.add_job(_value, 7)
    assert await idle.get_status(job_id) == JobStatus.pending
    assert await idle.cancel(job_id) is True
    record = await idle.get_record(job_id)
    assert record.status == JobStatus.canceled and record.started_at is None and record.finished_at is not None
    later = await idle.add_job(_value, 8)
    worker = asyncio.create_task(idle.run_worker(install_signal_handlers=False))
    try:
        await idle.wait(later, timeout=30)  # queued after the canceled one: the worker has passed it
        assert await idle.get_result(later) == 8
        assert (await idle.get_record(job_id)).status == JobStatus.canceled
    finally:
        worker.cancel()
        with suppress(asyncio.CancelledError):
            await worker


async def test_finished_records_are_pruned_after_record_ttl(postgres_url: str) -> None:
    async with running_distributed(postgres_url, record_ttl=0.5) as scheduler:
        job_id = await scheduler.add_job(_value, 3)
        await scheduler.wait(job_id, timeout=30)
        deadline = asyncio.get_running_loop().time() + 30
        while job_id in [record.id for record in await scheduler.get_all_records()]:
            assert asyncio.get_running_loop().time() < deadline, "the finished record was never pruned"
            await asyncio.sleep(0.1)
        assert await scheduler.store.get_result(job_id) is None


def test_with_jobs_refuses_timings_that_are_not_positive() -> None:
    builder = ServiceBuilder(info=ServiceInfo(display_name="x"))
    for option in ("heartbeat_interval", "stale_after", "record_ttl"):
        with pytest.raises(ValueError, match=f"{option} must be a positive number of seconds"):
            builder.with_jobs(**{option: 0})


def _task_service(url: str) -> object:
    return (
        ServiceBuilder(info=ServiceInfo(display_name="Distributed tasks"))
        .with_database(url)
        .with_artifacts(hierarchy=ArtifactHierarchy(name="runs", level_labels={0: "run"}))
        .with_jobs(backend="procrastinate")
        .with_tasks(registry=registry)
        .build()
    )


async def test_python_and_shell_tasks_run_on_a_worker(postgres_url: str) -> None:
    app = _task_service(postgres_url)
    async with serve_app(app) as client:  # type: ignore[arg-type]
        scheduler = app.state.service_runtime.scheduler  # type: ignore[attr-defined]
        assert isinstance(scheduler, ProcrastinateJobScheduler)
        worker = asyncio.create_task(scheduler.run_worker(install_signal_handlers=False))
        try:
            for task, check in [
                ({"command": "scale", "task_type": "python", "parameters": {"values": [1, 2], "factor": 3}}, "result"),
                ({"command": "echo from a worker", "timeout": 60}, "stdout"),
            ]:
                created = await client.post("/api/v1/tasks", json=task)
                executed = await client.post(f"/api/v1/tasks/{created.json()['id']}/$execute")
                assert executed.status_code == 202, executed.text
                job_id = executed.json()["job_id"]
                await scheduler.wait(job_id, timeout=60)
                record = (await client.get(f"/api/v1/jobs/{job_id}")).json()
                assert record["status"] == "completed", record
                data = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()["data"]
                assert data[check] in ([3.0, 6.0], "from a worker\n"), data
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker


async def test_the_distributed_backend_needs_postgresql(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        async with open_storage("memory://", jobs=JobsSettings(backend="procrastinate")):
            pass
    with pytest.raises(ValueError, match=DISTRIBUTED_NEEDS_POSTGRES.split(":")[0]):
        async with open_storage(f"sqlite+aiosqlite:///{tmp_path}/x.db", jobs=JobsSettings(backend="procrastinate")):
            pass


def test_an_unknown_backend_is_refused_when_the_service_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="Unknown jobs backend 'celery'"):
        ServiceBuilder(info=ServiceInfo(display_name="x")).with_jobs(backend="celery")  # type: ignore[arg-type]
    monkeypatch.setenv("CHAPKIT_JOBS_BACKEND", "rq")
    with pytest.raises(ValueError, match="Unknown jobs backend 'rq'"):
        ServiceBuilder(info=ServiceInfo(display_name="x")).with_jobs()


async def test_a_worker_of_an_in_process_service_explains_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAPKIT_JOBS_BACKEND", raising=False)
    app = ServiceBuilder(info=ServiceInfo(display_name="x")).with_jobs().build()
    with pytest.raises(ValueError) as refused:
        await run_worker(app, install_signal_handlers=False)
    assert str(refused.value) == NO_QUEUE


_STARTED = asyncio.Event()


async def _until_canceled() -> None:
    _STARTED.set()
    await asyncio.sleep(3600)


async def test_a_worker_stopping_cancels_its_running_jobs_and_records_it(postgres_url: str) -> None:
    async with running_distributed(postgres_url, worker=False) as scheduler:
        _STARTED.clear()
        job_id = await scheduler.add_job(_until_canceled)
        worker = asyncio.create_task(scheduler.run_worker(graceful_timeout=0.1, install_signal_handlers=False))
        await asyncio.wait_for(_STARTED.wait(), 30)
        worker.cancel()
        with suppress(asyncio.CancelledError):
            await worker
        record = await scheduler.get_record(job_id)
        assert record.status == JobStatus.canceled and record.finished_at is not None


async def test_a_job_whose_target_the_worker_cannot_import_is_recorded_failed(idle: ProcrastinateJobScheduler) -> None:

    from chapkit.domain.jobs import JobRecord

    record = JobRecord(id=ULID(), submitted_at=utc_now())
    payload = {"job_id": str(record.id), "target": "no_such_module:run", "bound": False, "arguments": {}}
    await idle.queue.enqueue(record, owner=QUEUED_OWNER, task=WORKER_TASK, payload=payload)
    worker = asyncio.create_task(idle.run_worker(install_signal_handlers=False))
    try:
        await idle.wait(record.id, timeout=30)
    finally:
        worker.cancel()
        with suppress(asyncio.CancelledError):
            await worker
    failed = await idle.get_record(record.id)
    assert failed.status == JobStatus.failed
    assert failed.error == "ModuleNotFoundError: No module named 'no_such_module'"


async def test_a_worker_stopped_while_its_pool_connects_leaves_no_task_behind(idle: ProcrastinateJobScheduler) -> None:
    """A worker canceled while its connection pool opens closes the pool: no pool task outlives it.

    A pool task left running swallows the event loop's final cancellation when it lands during a
    connect, and the loop then never closes (a test's teardown hung so under load). Here the pool's
    first connection goes to a server that answers only once the worker has been canceled.
    """
    connecting, answer = asyncio.Event(), asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connecting.set()
        await answer.wait()
        writer.close()  # the pool's connect fails: it would retry, were the pool still open

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    idle.conninfo = f"postgresql://postgres@127.0.0.1:{port}/chapkit?sslmode=disable"
    before = asyncio.all_tasks()
    worker = asyncio.create_task(idle.run_worker(install_signal_handlers=False))
    try:
        await asyncio.wait_for(connecting.wait(), 30)
        worker.cancel()
        answer.set()
        with suppress(asyncio.CancelledError):
            await worker
        left = sorted(task.get_name() for task in asyncio.all_tasks() - before if not task.done())
        assert left == [], f"tasks outlived the worker: {left}"
    finally:
        answer.set()
        server.close()
        await server.wait_closed()
