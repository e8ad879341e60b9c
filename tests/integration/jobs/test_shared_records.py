"""Several schedulers on one database (D16): shared listing, cancels across owners, restarts, dead owners.

Each SQL scheduler gets its own engine, as a separate process would; the memory case shares one store.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from ulid import ULID

from chapkit import AIOJobScheduler, InMemoryJobRecordStore, JobRecordStore, JobStatus
from chapkit.adapters.sql import SqlJobRecordStore, create_database, owner_lock_for
from chapkit.domain.ports import INTERRUPTED_ERROR
from tests.conftest import truncate

FAST = {"heartbeat_interval": 0.02, "poll_interval": 0.01, "stale_after": 3600}
"""Quick beats and polls (cancels across owners), and silence judged only where a case asks for it: a live
owner's heartbeats lag a short `stale_after` on a busy machine (a child process's did, and its running
job was failed before the test killed it)."""
SHORT_STALE_AFTER = 0.5
PROJECT_ROOT = Path(__file__).resolve().parents[3]
OpenScheduler = Callable[..., AbstractAsyncContextManager[AIOJobScheduler]]


@pytest.fixture(params=["memory", "sqlite_file", "postgres"])
async def open_scheduler(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenScheduler]:
    """A factory of schedulers that all share one database (one engine each on SQL)."""
    shared = InMemoryJobRecordStore()
    if request.param == "memory":
        url = ""
    elif request.param == "sqlite_file":
        url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
        database = create_database(url)
        await database.init()
        await truncate(database)
        await database.dispose()

    @asynccontextmanager
    async def opened(*, locked: bool = True, **options: Any) -> AsyncIterator[AIOJobScheduler]:
        if not url:
            scheduler = AIOJobScheduler(store=shared, **{**FAST, **options})
            await scheduler.start()
            yield scheduler
            await scheduler.shutdown()
            return
        database = create_database(url)
        await database.init()
        lock = owner_lock_for(database) if locked else None
        scheduler = AIOJobScheduler(store=SqlJobRecordStore(database), owner_lock=lock, **{**FAST, **options})
        await scheduler.start()
        try:
            yield scheduler
        finally:
            await scheduler.shutdown()
            await database.dispose()

    yield opened


async def _started(scheduler: AIOJobScheduler, started: asyncio.Event) -> ULID:
    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    job_id = await scheduler.add_job(forever)
    await asyncio.wait_for(started.wait(), 5)
    await scheduler.flush()
    return job_id


async def _quick(value: object) -> object:
    return value


async def test_each_scheduler_sees_the_others_jobs(open_scheduler: OpenScheduler) -> None:
    async with open_scheduler() as a, open_scheduler() as b:
        first = await a.add_job(_quick, 1)
        await asyncio.sleep(0.002)
        second = await b.add_job(_quick, 2)
        await a.wait(first)
        await b.wait(second)
        await a.flush()  # records are written behind; flush() makes them visible to others at once
        await b.flush()
        for scheduler in (a, b):
            assert [r.id for r in await scheduler.get_all_records()] == [second, first]
            assert await scheduler.get_status(first) == JobStatus.completed
        assert await b.get_records_paginated(2, 1) == ([await a.get_record(first)], 2)


async def test_a_cancel_issued_elsewhere_is_honoured_by_the_owner(open_scheduler: OpenScheduler) -> None:
    async with open_scheduler() as owner, open_scheduler() as other:
        job_id = await _started(owner, asyncio.Event())
        assert await other.get_status(job_id) == JobStatus.running

        assert await other.cancel(job_id) is True

        assert await owner.get_status(job_id) == JobStatus.canceled
        assert await other.get_status(job_id) == JobStatus.canceled
        assert await other.cancel(job_id) is False


async def test_waiting_on_and_reading_results_of_another_owners_job(open_scheduler: OpenScheduler) -> None:
    async with open_scheduler() as owner, open_scheduler() as other:
        gate = asyncio.Event()
        artifact = ULID()

        async def produce() -> ULID:
            await gate.wait()
            return artifact

        job_id = await owner.add_job(produce)
        plain = await owner.add_job(_quick, {"not": "a ulid"})
        await owner.wait(plain)
        await owner.flush()
        with pytest.raises(TimeoutError):
            await other.wait(job_id, timeout=0.05)
        gate.set()
        await other.wait(job_id, timeout=5)
        assert await other.get_result(job_id) == artifact
        with pytest.raises(RuntimeError, match="not available"):
            await other.get_result(plain)
        assert await owner.get_result(plain) == {"not": "a ulid"}


async def test_deleting_another_owners_running_job_cancels_then_removes_it(open_scheduler: OpenScheduler) -> None:
    async with open_scheduler() as owner, open_scheduler() as other:
        job_id = await _started(owner, asyncio.Event())
        await other.delete(job_id)
        for scheduler in (owner, other):
            with pytest.raises(KeyError, match=f"Job {job_id} not found"):
                await scheduler.get_record(job_id)
        assert await owner.get_all_records() == []


async def test_records_survive_a_restart(open_scheduler: OpenScheduler) -> None:
    async with open_scheduler() as before:
        done = await before.add_job(_quick, 1)
        failed = await before.add_job(_quick, 1, 2)
        running = await _started(before, asyncio.Event())
        await before.wait(done)
        with pytest.raises(TypeError):  # the job's own error, re-raised by wait as in the reference
            await before.wait(failed)
        expected = {r.id: r for r in await before.get_all_records()}
    async with open_scheduler() as after:
        records = await after.get_all_records()
        assert [r.id for r in records] == [running, failed, done]
        assert records[1] == expected[failed] and records[2] == expected[done]
        assert records[1].error is not None and records[1].error.startswith("TypeError")
        assert records[0].status == JobStatus.canceled  # stopped cleanly: canceled by shutdown, not left running


async def test_dead_owners_records_fail_at_start_while_a_live_neighbours_are_untouched(
    open_scheduler: OpenScheduler,
) -> None:
    async with open_scheduler() as neighbour, open_scheduler(heartbeat_interval=3600, max_concurrency=1) as dying:
        alive_job = await _started(neighbour, asyncio.Event())
        dead_running = await _started(dying, asyncio.Event())
        dead_pending = await dying.add_job(_quick, 1)
        await dying.flush()
        assert await neighbour.get_status(dead_pending) == JobStatus.pending
        store: JobRecordStore | None = dying.store
        assert store is not None
        await store.release(dying.owner)  # as if the process had died: no heartbeat any more

        async with open_scheduler() as newcomer:
            for job_id in (dead_running, dead_pending):
                record = await newcomer.get_record(job_id)
                assert record.status == JobStatus.failed
                assert record.error == INTERRUPTED_ERROR
            assert await newcomer.get_status(alive_job) == JobStatus.running


@asynccontextmanager
async def _killed_child(url: str) -> AsyncIterator[tuple[subprocess.Popen[str], ULID]]:
    """A process on `url` running one endless job (its id is yielded once running and written); killed at the end."""
    child = subprocess.Popen(  # noqa: ASYNC220 - a plain child process we kill -9; its pipe is read in a thread
        [sys.executable, "-c", _CHILD, url], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT
    )
    try:
        assert child.stdout is not None
        yield child, ULID.from_str((await asyncio.to_thread(child.stdout.readline)).strip())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


async def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    await asyncio.to_thread(child.wait, 30)


async def _lock_freed(url: str) -> None:
    """Wait until the killed child's owner lock is free (PostgreSQL ends a dead client's session a moment later)."""
    database = create_database(url)
    lock = owner_lock_for(database)
    assert lock is not None
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while not await lock.dead_owners():
            assert asyncio.get_running_loop().time() < deadline, "the killed process's lock was never freed"
            await asyncio.sleep(0.02)
    finally:
        await database.dispose()


@pytest.mark.parametrize("open_scheduler", ["sqlite_file", "postgres"], indirect=True)
async def test_a_restart_fails_a_killed_processs_jobs_at_once_by_its_free_lock(
    open_scheduler: OpenScheduler, child_url: str
) -> None:
    async with _killed_child(child_url) as (child, job_id), open_scheduler() as neighbour:
        alive_job = await _started(neighbour, asyncio.Event())
        assert await neighbour.get_status(job_id) == JobStatus.running
        await _kill(child)
        await _lock_freed(child_url)

        # The dead owner's heartbeat is fresh and stale_after long: only its free lock tells it died.
        async with open_scheduler(stale_after=3600) as restarted:
            record = await restarted.get_record(job_id)
            assert (record.status, record.error) == (JobStatus.failed, INTERRUPTED_ERROR)
            assert await restarted.get_status(alive_job) == JobStatus.running
            assert await restarted.store.owner_of(alive_job) == neighbour.owner  # type: ignore[union-attr]


@pytest.mark.parametrize("open_scheduler", ["sqlite_file", "postgres"], indirect=True)
async def test_a_running_neighbour_fails_a_killed_processs_jobs_within_stale_after(
    open_scheduler: OpenScheduler, child_url: str
) -> None:
    async with open_scheduler(stale_after=SHORT_STALE_AFTER) as neighbour, _killed_child(child_url) as (child, job_id):
        alive_job = await _started(neighbour, asyncio.Event())
        await _kill(child)

        await neighbour.wait(job_id, timeout=30)  # no process starts: the neighbour's housekeeping must see it

        record = await neighbour.get_record(job_id)
        assert (record.status, record.error) == (JobStatus.failed, INTERRUPTED_ERROR)
        assert await neighbour.get_status(alive_job) == JobStatus.running


@pytest.fixture
def child_url(open_scheduler: OpenScheduler, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL the parametrized `open_scheduler` shares (the killed child opens it too)."""
    if request.node.callspec.params["open_scheduler"] == "sqlite_file":
        return f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    return str(request.getfixturevalue("postgres_url"))


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from chapkit import AIOJobScheduler
    from chapkit.adapters.sql import SqlJobRecordStore, create_database, owner_lock_for

    async def main() -> None:
        database = create_database(sys.argv[1])
        await database.init()
        scheduler = AIOJobScheduler(
            store=SqlJobRecordStore(database), owner_lock=owner_lock_for(database), heartbeat_interval=0.02
        )
        started = asyncio.Event()

        async def forever() -> None:
            started.set()
            await asyncio.sleep(3600)

        job_id = await scheduler.add_job(forever)
        await started.wait()
        await scheduler.flush()
        print(job_id, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)
