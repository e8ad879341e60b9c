"""The job scheduler port's contract: `AIOJobScheduler` alone and on every job-record store backend, and
`ProcrastinateJobScheduler` with a worker in this process (D22).

Targets are module-level functions (a distributed scheduler runs jobs by reference); what they wait on
is found by a token in module-level tables, since the worker runs in this process. Cases about running
in process (awaitable objects, a concurrency limit, `wait` re-raising a job's own exception) use
`local_scheduler`, the asyncio scheduler only.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from ulid import ULID

from chapkit import AIOJobScheduler, BadRequestError, JobScheduler, JobStatus
from chapkit.domain.errors import JobNotFoundError, NotFoundError
from chapkit.domain.jobs import JobOutcome
from chapkit.embedding import open_storage
from tests.conftest import BACKENDS, backend_url, truncate
from tests.support.distributed import running_distributed


@pytest.fixture(params=["no_store", *BACKENDS, "distributed"])
async def scheduler(request: pytest.FixtureRequest) -> AsyncIterator[JobScheduler]:
    """A started scheduler: without a store, the container's on each storage backend, or the distributed one."""
    if request.param == "distributed":
        async with running_distributed(request.getfixturevalue("postgres_url")) as distributed:
            yield distributed
        return
    async with _local(request) as local:
        yield local


@pytest.fixture(params=["no_store", *BACKENDS])
async def local_scheduler(request: pytest.FixtureRequest) -> AsyncIterator[JobScheduler]:
    """A started in-process scheduler: without a store, or the container's on each storage backend."""
    async with _local(request) as local:
        yield local


@asynccontextmanager
async def _local(request: pytest.FixtureRequest) -> AsyncIterator[JobScheduler]:
    if request.param == "no_store":
        plain = AIOJobScheduler()
        yield plain
        await plain.shutdown()
        return
    async with open_storage(backend_url(request, request.param)) as opened:
        await truncate(opened.database)
        assert opened.scheduler is not None
        yield opened.scheduler


async def _value(x: int) -> int:
    return x * 2


def _boom() -> None:
    raise ValueError("boom")


_GATES: dict[str, asyncio.Event] = {}
_STARTED: dict[str, asyncio.Event] = {}
_STOPPED: dict[str, asyncio.Event] = {}


def _token(table: dict[str, asyncio.Event]) -> tuple[str, asyncio.Event]:
    token = str(ULID())
    table[token] = asyncio.Event()
    return token, table[token]


async def _gate(token: str) -> bool:
    """Finish once the test opens the gate `token`."""
    return await _GATES[token].wait()


async def _forever(token: str) -> None:
    """Say it started, then run until canceled, and say it stopped."""
    _STARTED[token].set()
    try:
        await asyncio.sleep(3600)
    finally:
        _STOPPED[token].set()


def _where(prefix: str, *, suffix: str) -> str:
    return f"{prefix}{threading.get_ident()}{suffix}"


async def _echo(value: ULID) -> ULID:
    return value


async def _outcome(value: ULID) -> JobOutcome:
    return JobOutcome(artifact_id=value)


def _forever_token() -> tuple[str, asyncio.Event, asyncio.Event]:
    token, started = _token(_STARTED)
    _STOPPED[token] = asyncio.Event()
    return token, started, _STOPPED[token]


async def _finish(scheduler: JobScheduler, *job_ids: ULID) -> None:
    """Wait for the jobs; a failed job's own exception (re-raised by `wait`) is expected here, a timeout is not."""
    for job_id in job_ids:
        try:
            await scheduler.wait(job_id, timeout=5)
        except TimeoutError:
            raise
        except Exception:
            pass


async def test_coroutine_function_with_arguments_completes_with_its_result(scheduler: JobScheduler) -> None:
    job_id = await scheduler.add_job(_value, 21)
    await _finish(scheduler, job_id)
    assert await scheduler.get_status(job_id) == JobStatus.completed
    assert await scheduler.get_result(job_id) == 42
    record = await scheduler.get_record(job_id)
    assert record.id == job_id and record.error is None and record.artifact_id is None
    assert record.submitted_at is not None and record.started_at is not None and record.finished_at is not None
    assert record.submitted_at <= record.started_at <= record.finished_at


async def test_plain_callable_runs_in_a_worker_thread(scheduler: JobScheduler) -> None:
    job_id = await scheduler.add_job(_where, "<", suffix=">")
    await _finish(scheduler, job_id)
    result = await scheduler.get_result(job_id)
    assert result.startswith("<") and result.endswith(">")
    assert result != f"<{threading.get_ident()}>"


async def test_awaitable_object_runs_as_is(local_scheduler: JobScheduler) -> None:
    job_id = await local_scheduler.add_job(_value(5))
    await _finish(local_scheduler, job_id)
    assert await local_scheduler.get_result(job_id) == 10


async def test_awaitable_with_arguments_fails_with_type_error(local_scheduler: JobScheduler) -> None:
    coroutine = _value(1)
    job_id = await local_scheduler.add_job(coroutine, "extra")
    await _finish(local_scheduler, job_id)
    record = await local_scheduler.get_record(job_id)
    assert record.status == JobStatus.failed
    assert record.error == "TypeError: Args/kwargs not supported when target is an awaitable object."
    assert coroutine.cr_frame is None  # closed, so no "never awaited" warning


async def test_ulid_result_sets_artifact_id(scheduler: JobScheduler) -> None:
    artifact = ULID()
    job_id = await scheduler.add_job(_echo, artifact)
    await _finish(scheduler, job_id)
    assert (await scheduler.get_record(job_id)).artifact_id == artifact
    assert await scheduler.get_result(job_id) == artifact


async def test_a_job_outcome_sets_artifact_id_and_its_result_is_the_artifact_id(scheduler: JobScheduler) -> None:
    artifact = ULID()
    job_id = await scheduler.add_job(_outcome, artifact)
    await _finish(scheduler, job_id)
    record = await scheduler.get_record(job_id)
    assert record.status == JobStatus.completed and record.artifact_id == artifact
    assert await scheduler.get_result(job_id) == artifact


async def test_failure_records_last_traceback_line_and_traceback(scheduler: JobScheduler) -> None:
    job_id = await scheduler.add_job(_boom)
    await _finish(scheduler, job_id)
    record = await scheduler.get_record(job_id)
    assert record.status == JobStatus.failed
    assert record.error == "ValueError: boom"
    assert record.error_traceback is not None
    assert record.error_traceback.startswith("Traceback (most recent call last):")
    assert "_boom" in record.error_traceback and record.error_traceback.rstrip().endswith("ValueError: boom")
    assert record.finished_at is not None and record.artifact_id is None
    with pytest.raises(RuntimeError, match=r"^ValueError: boom$"):
        await scheduler.get_result(job_id)


async def test_get_result_of_an_unfinished_job_raises(scheduler: JobScheduler) -> None:
    token, gate = _token(_GATES)
    job_id = await scheduler.add_job(_gate, token)
    with pytest.raises(RuntimeError, match=r"Job not finished \(status=(pending|running)\)"):
        await scheduler.get_result(job_id)
    gate.set()
    await _finish(scheduler, job_id)
    assert await scheduler.get_result(job_id) is True


async def test_cancel_running_job_returns_true_and_records_canceled(scheduler: JobScheduler) -> None:
    token, started, _ = _forever_token()
    job_id = await scheduler.add_job(_forever, token)
    await asyncio.wait_for(started.wait(), 10)
    assert await scheduler.get_status(job_id) == JobStatus.running
    assert await scheduler.cancel(job_id) is True
    record = await scheduler.get_record(job_id)
    assert record.status == JobStatus.canceled and record.finished_at is not None
    with pytest.raises(RuntimeError, match=r"status=canceled"):
        await scheduler.get_result(job_id)
    assert await scheduler.cancel(job_id) is False


async def test_cancel_finished_job_returns_false(scheduler: JobScheduler) -> None:
    done, failed = await scheduler.add_job(_value, 1), await scheduler.add_job(_boom)
    await _finish(scheduler, done, failed)
    assert await scheduler.cancel(done) is False
    assert await scheduler.cancel(failed) is False
    assert await scheduler.get_status(done) == JobStatus.completed
    assert await scheduler.get_status(failed) == JobStatus.failed


async def test_cancel_pending_job_waiting_for_a_slot(local_scheduler: JobScheduler) -> None:
    scheduler = local_scheduler
    assert isinstance(scheduler, AIOJobScheduler)
    await scheduler.set_max_concurrency(1)
    gate = asyncio.Event()
    blocker = await scheduler.add_job(gate.wait)
    waiting = await scheduler.add_job(_value, 1)
    await asyncio.sleep(0.01)
    assert await scheduler.get_status(waiting) == JobStatus.pending
    assert await scheduler.cancel(waiting) is True
    record = await scheduler.get_record(waiting)
    assert record.status == JobStatus.canceled and record.started_at is None and record.finished_at is not None
    gate.set()
    await _finish(scheduler, blocker)


async def test_delete_cancels_a_running_job_then_forgets_it(scheduler: JobScheduler) -> None:
    token, started, cancelled = _forever_token()
    job_id = await scheduler.add_job(_forever, token)
    await asyncio.wait_for(started.wait(), 10)
    await scheduler.delete(job_id)
    assert cancelled.is_set()
    with pytest.raises(KeyError, match=f"Job {job_id} not found"):
        await scheduler.get_record(job_id)
    assert job_id not in [r.id for r in await scheduler.get_all_records()]


async def test_delete_finished_job_forgets_record_and_result(scheduler: JobScheduler) -> None:
    keep, gone = await scheduler.add_job(_value, 1), await scheduler.add_job(_value, 2)
    await _finish(scheduler, keep, gone)
    await scheduler.delete(gone)
    with pytest.raises(KeyError):
        await scheduler.get_result(gone)
    assert [r.id for r in await scheduler.get_all_records()] == [keep]


@pytest.mark.parametrize("operation", ["get_status", "get_record", "cancel", "delete", "wait", "get_result"])
async def test_unknown_job_raises_key_error(scheduler: JobScheduler, operation: str) -> None:
    """One error for an unknown job: a `KeyError` (as the reference's schedulers raise) and a 404 problem."""
    method: Any = getattr(scheduler, operation)
    unknown = ULID()
    with pytest.raises(JobNotFoundError) as raised:
        await method(unknown)
    assert isinstance(raised.value, KeyError) and isinstance(raised.value, NotFoundError)
    assert raised.value.job_id == unknown and str(raised.value) == f"Job {unknown} not found"
    assert raised.value.status == 404


async def test_all_records_are_newest_first_and_pageable(scheduler: JobScheduler) -> None:
    ids = []
    for n in range(5):
        ids.append(await scheduler.add_job(_value, n))
        await asyncio.sleep(0.002)
    await _finish(scheduler, *ids)
    assert [r.id for r in await scheduler.get_all_records()] == ids[::-1]
    page, total = await scheduler.get_records_paginated(2, 2)
    assert ([r.id for r in page], total) == ([ids[2], ids[1]], 5)
    page, total = await scheduler.get_records_paginated(3, 2)
    assert ([r.id for r in page], total) == ([ids[0]], 5)
    assert await scheduler.get_records_paginated(4, 2) == ([], 5)
    with pytest.raises(BadRequestError):
        await scheduler.get_records_paginated(0, 2)
    with pytest.raises(BadRequestError):
        await scheduler.get_records_paginated(1, 0)


async def test_wait_honours_its_timeout_and_returns_for_completed_and_canceled_jobs(scheduler: JobScheduler) -> None:
    token, gate = _token(_GATES)
    job_id = await scheduler.add_job(_gate, token)
    with pytest.raises(TimeoutError):
        await scheduler.wait(job_id, timeout=0.05)
    assert await scheduler.get_status(job_id) in (JobStatus.pending, JobStatus.running)
    gate.set()
    await scheduler.wait(job_id, timeout=5)
    canceled = await scheduler.add_job(asyncio.sleep, 3600)
    assert await scheduler.cancel(canceled)
    await scheduler.wait(canceled, timeout=5)
    await scheduler.wait(canceled)
    assert await scheduler.get_status(canceled) == JobStatus.canceled


async def test_records_are_copies(scheduler: JobScheduler) -> None:
    job_id = await scheduler.add_job(_value, 1)
    await _finish(scheduler, job_id)
    record = await scheduler.get_record(job_id)
    record.status = JobStatus.failed
    [listed] = await scheduler.get_all_records()
    listed.error = "changed"
    stored = await scheduler.get_record(job_id)
    assert (stored.status, stored.error) == (JobStatus.completed, None)


async def test_max_concurrency_bounds_running_jobs(local_scheduler: JobScheduler) -> None:
    scheduler = local_scheduler
    assert isinstance(scheduler, AIOJobScheduler)
    await scheduler.set_max_concurrency(2)
    assert scheduler.max_concurrency == 2
    running = peak = 0

    async def tracked() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1

    ids = [await scheduler.add_job(tracked) for _ in range(6)]
    await _finish(scheduler, *ids)
    assert peak == 2
    await scheduler.set_max_concurrency(None)
    assert scheduler.max_concurrency is None
    ids = [await scheduler.add_job(tracked) for _ in range(6)]
    await _finish(scheduler, *ids)
    assert peak == 6


async def test_wait_reraises_a_failed_jobs_own_exception(local_scheduler: JobScheduler) -> None:
    scheduler = local_scheduler
    job_id = await scheduler.add_job(_boom)
    with pytest.raises(ValueError, match="boom"):
        await scheduler.wait(job_id, timeout=5)
    with pytest.raises(ValueError, match="boom"):  # again, once the task is gone
        await scheduler.wait(job_id, timeout=5)
    with pytest.raises(RuntimeError, match="ValueError"):
        await scheduler.get_result(job_id)


async def test_wait_on_an_awaitable_with_arguments_raises_its_type_error(local_scheduler: JobScheduler) -> None:
    coroutine = _value(1)
    job_id = await local_scheduler.add_job(coroutine, "extra")
    with pytest.raises(TypeError, match="Args/kwargs not supported"):
        await local_scheduler.wait(job_id, timeout=5)
