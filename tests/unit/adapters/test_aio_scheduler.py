"""`AIOJobScheduler` specifics: naming, concurrency, retention, shutdown, write-behind to a store."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from ulid import ULID

from chapkit import AIOJobScheduler, InMemoryJobRecordStore, JobRecord, JobStatus
from chapkit.adapters.scheduler import ResultCache, describe_failure
from chapkit.domain.ports import INTERRUPTED_ERROR

WAIT = 30.0
"""Seconds a case waits for a state before failing: a bound, never a synchronisation."""

STALE_AFTER = 60.0
"""Seconds of silence after which an owner counts as dead, in cases that set heartbeat ages themselves."""


async def _echo(value: object) -> object:
    return value


async def test_defaults_match_the_reference() -> None:
    scheduler = AIOJobScheduler()
    assert (scheduler.name, scheduler.max_concurrency, scheduler.store) == ("chap", None, None)
    assert await scheduler.get_all_records() == []


async def test_jobs_run_as_tasks_named_after_the_scheduler() -> None:
    scheduler = AIOJobScheduler(name="trainer")

    async def task_name() -> str:
        task = asyncio.current_task()
        assert task is not None
        return task.get_name()

    job_id = await scheduler.add_job(task_name)
    await scheduler.wait(job_id)
    assert await scheduler.get_result(job_id) == f"trainer-job-{job_id}"
    await scheduler.shutdown()


async def test_max_concurrency_given_at_construction_runs_jobs_one_at_a_time() -> None:
    scheduler = AIOJobScheduler(max_concurrency=1)
    order: list[str] = []

    async def step(name: str) -> None:
        order.append(f"start {name}")
        await asyncio.sleep(0.005)
        order.append(f"end {name}")

    ids = [await scheduler.add_job(step, n) for n in "ab"]
    for job_id in ids:
        await scheduler.wait(job_id)
    assert order == ["start a", "end a", "start b", "end b"]
    await scheduler.shutdown()


async def test_results_beyond_the_count_are_evicted_oldest_first() -> None:
    scheduler = AIOJobScheduler(result_max_count=2)
    ids = [await scheduler.add_job(_echo, n) for n in range(3)]
    for job_id in ids:
        await scheduler.wait(job_id)
    with pytest.raises(RuntimeError, match="not available"):
        await scheduler.get_result(ids[0])
    assert [await scheduler.get_result(job_id) for job_id in ids[1:]] == [1, 2]
    assert await scheduler.get_status(ids[0]) == JobStatus.completed
    await scheduler.shutdown()


async def test_an_evicted_ulid_result_is_still_given_through_the_record() -> None:
    scheduler = AIOJobScheduler(result_max_count=0)
    artifact = ULID()
    job_id = await scheduler.add_job(_echo, artifact)
    await scheduler.wait(job_id)
    assert await scheduler.get_result(job_id) == artifact
    await scheduler.shutdown()


def test_results_are_kept_for_their_ttl_and_no_longer() -> None:
    clock = _Clock()
    cache = ResultCache(ttl=10, clock=clock)
    kept, expired = ULID(), ULID()
    cache.put(expired, "old")
    clock.seconds = 5
    cache.put(kept, "new")
    clock.seconds = 10
    assert (cache.get(expired), cache.get(kept)) == ((True, "old"), (True, "new"))
    clock.seconds = 10.5
    cache.expire()
    assert (len(cache), cache.get(kept)) == (1, (True, "new"))
    clock.seconds = 15.5
    assert cache.get(kept) == (False, None)


async def test_results_expire_after_their_ttl() -> None:
    # Whether a result is still kept right after `wait` depends on the time between them, which a busy
    # machine stretches past any short ttl: the boundary is checked with a clock above.
    scheduler = AIOJobScheduler(result_ttl=0.05)
    job_id = await scheduler.add_job(_echo, "x")
    await scheduler.wait(job_id)
    async with asyncio.timeout(WAIT):
        while (await _result_or_error(scheduler, job_id)) == "x":  # noqa: ASYNC110 (no event to await)
            await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="not available"):
        await scheduler.get_result(job_id)
    await scheduler.shutdown()


async def _result_or_error(scheduler: AIOJobScheduler, job_id: ULID) -> object:
    try:
        return await scheduler.get_result(job_id)
    except RuntimeError as error:
        return error


class _Clock:
    """Seconds, as the test sets them."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


async def test_a_none_result_is_a_result() -> None:
    scheduler = AIOJobScheduler()
    job_id = await scheduler.add_job(_echo, None)
    await scheduler.wait(job_id)
    assert await scheduler.get_result(job_id) is None
    await scheduler.shutdown()


def test_result_cache_limits() -> None:
    cache = ResultCache(max_count=2)
    ids = [ULID() for _ in range(3)]
    for n, job_id in enumerate(ids):
        cache.put(job_id, n)
    assert len(cache) == 2
    assert cache.get(ids[0]) == (False, None)
    assert cache.get(ids[2]) == (True, 2)
    cache.configure(1, None)
    assert len(cache) == 1 and cache.get(ids[2]) == (True, 2)
    cache.pop(ids[2])
    assert cache.get(ids[2]) == (False, None)


@pytest.mark.parametrize("with_store", [False, True])
async def test_finished_records_are_pruned_after_record_ttl(with_store: bool) -> None:
    store = InMemoryJobRecordStore() if with_store else None
    scheduler = AIOJobScheduler(store=store, record_ttl=0.05, heartbeat_interval=0.02)
    gate = asyncio.Event()
    done = await scheduler.add_job(_echo, 1)
    waiting = await scheduler.add_job(gate.wait)
    await scheduler.wait(done)
    # Pruning is housekeeping's, on its own schedule: wait for the record to go, not for a time to pass
    # (the test once woke first on a busy machine, both timers due at once).
    async with asyncio.timeout(WAIT):
        while done in [r.id for r in await scheduler.get_all_records()]:  # noqa: ASYNC110 (no event to await)
            await asyncio.sleep(0.01)
    assert [r.id for r in await scheduler.get_all_records()] == [waiting]
    with pytest.raises(KeyError):
        await scheduler.get_record(done)
    gate.set()
    await scheduler.shutdown()


async def test_shutdown_cancels_every_job_and_leaves_no_task_behind() -> None:
    store = InMemoryJobRecordStore()
    scheduler = AIOJobScheduler(store=store, heartbeat_interval=0.01)
    release = threading.Event()
    sleeping = await scheduler.add_job(asyncio.sleep, 3600)
    threaded = await scheduler.add_job(release.wait, 5)
    done = await scheduler.add_job(_echo, 1)
    await scheduler.wait(done)
    await asyncio.sleep(0.01)

    await scheduler.shutdown()

    assert asyncio.all_tasks() == {asyncio.current_task()}
    statuses = {r.id: r.status for r in await store.list_records()}
    assert statuses == {sleeping: JobStatus.canceled, threaded: JobStatus.canceled, done: JobStatus.completed}
    assert await store.fail_stale(stale_before=_far_future(), at=_far_future()) == 0
    release.set()


async def test_shutdown_grace_period_lets_short_jobs_finish_and_cancels_the_rest() -> None:
    scheduler = AIOJobScheduler()
    short = await scheduler.add_job(asyncio.sleep, 0.01)
    long = await scheduler.add_job(asyncio.sleep, 3600)

    await scheduler.shutdown(timeout=0.5)

    assert await scheduler.get_status(short) == JobStatus.completed
    assert await scheduler.get_status(long) == JobStatus.canceled
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def test_a_scheduler_can_start_again_after_shutdown() -> None:
    scheduler = AIOJobScheduler(store=InMemoryJobRecordStore())
    first = await scheduler.add_job(_echo, 1)
    await scheduler.wait(first)
    await scheduler.shutdown()
    second = await scheduler.add_job(_echo, 2)
    await scheduler.wait(second)
    assert await scheduler.get_result(second) == 2
    assert [r.id for r in await scheduler.get_all_records()] == [second, first]
    await scheduler.shutdown()


async def test_records_are_written_behind_to_the_store() -> None:
    store = InMemoryJobRecordStore()
    scheduler = AIOJobScheduler(store=store)
    ids = [await scheduler.add_job(_echo, n) for n in range(20)]
    for job_id in ids:
        await scheduler.wait(job_id)
    await scheduler.flush()
    stored = await store.list_records()
    assert [r.id for r in stored] == ids[::-1]
    assert {r.status for r in stored} == {JobStatus.completed}
    assert {await store.owner_of(job_id) for job_id in ids} == {scheduler.owner}
    await scheduler.shutdown()


async def test_start_fails_dead_owners_records_only() -> None:
    store = InMemoryJobRecordStore()
    dead = AIOJobScheduler(store=store, stale_after=STALE_AFTER, heartbeat_interval=3600)
    alive = AIOJobScheduler(store=store, stale_after=STALE_AFTER, heartbeat_interval=3600)
    gate = asyncio.Event()
    started = {owner: asyncio.Event() for owner in (dead.owner, alive.owner)}

    async def run(owner: str) -> None:
        started[owner].set()
        await gate.wait()

    dead_job = await dead.add_job(run, dead.owner)
    alive_job = await alive.add_job(run, alive.owner)
    for scheduler in (dead, alive):
        await started[scheduler.owner].wait()
        await scheduler.flush()
    # The dead owner's last heartbeat is an hour old; the live one's was written at its start. Ages are
    # set, not waited for: on a busy machine a live owner's beats can lag any short `stale_after`.
    await store.heartbeat(dead.owner, datetime.now(UTC) - timedelta(hours=1))

    newcomer = AIOJobScheduler(store=store, stale_after=STALE_AFTER)
    await newcomer.start()

    interrupted = await newcomer.get_record(dead_job)
    assert interrupted.status == JobStatus.failed
    assert interrupted.error == INTERRUPTED_ERROR
    assert await newcomer.get_status(alive_job) == JobStatus.running
    gate.set()
    await alive.wait(alive_job)
    for scheduler in (dead, alive, newcomer):
        await scheduler.shutdown()


def test_describe_failure_gives_last_line_and_full_traceback() -> None:
    try:
        raise KeyError("missing")
    except KeyError as exc:
        error, formatted = describe_failure(exc)
    assert error == "KeyError: 'missing'"
    assert formatted.startswith("Traceback (most recent call last):") and "test_describe_failure" in formatted


def _far_future() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


class _Abort(BaseException):
    """Not an Exception: escapes ordinary error handling."""


async def test_a_job_raising_a_base_exception_is_recorded_failed() -> None:
    scheduler = AIOJobScheduler()

    async def abort() -> None:
        raise _Abort("stop")

    job_id = await scheduler.add_job(abort)
    await scheduler.wait(job_id)
    record = await scheduler.get_record(job_id)
    assert record.status == JobStatus.failed and record.error is not None and "_Abort: stop" in record.error
    await scheduler.shutdown()


class _FlakyStore(InMemoryJobRecordStore):
    """The memory store, failing its first write as a database that is briefly away would."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def save(self, records: Sequence[JobRecord], owner: str) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database away")
        await super().save(records, owner)


async def test_records_are_written_once_the_store_is_back() -> None:
    store = _FlakyStore()
    scheduler = AIOJobScheduler(store=store, heartbeat_interval=0.01)
    await scheduler.start()
    job_id = await scheduler.add_job(_echo, 1)
    await scheduler.wait(job_id)
    assert await scheduler.get_status(job_id) == JobStatus.completed  # served locally meanwhile
    for _ in range(100):
        if await store.get(job_id) is not None:
            break
        await asyncio.sleep(0.01)
    stored = await store.get(job_id)
    assert store.failures == 0 and stored is not None and stored.status == JobStatus.completed
    await scheduler.shutdown()
