"""How an owner judges the others (D16): dead owners at start-up, silent ones in every housekeeping pass."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from ulid import ULID

from chapkit import AIOJobScheduler, InMemoryJobRecordStore, JobRecord, JobStatus
from chapkit.adapters.scheduler.owners import OwnerWatch
from chapkit.domain.job_states import transition
from chapkit.domain.ports import INTERRUPTED_ERROR

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class _OutageStore(InMemoryJobRecordStore):
    """The memory store, with heartbeats failing while `down` (a database outage)."""

    down = False

    async def heartbeat(self, owner: str, at: datetime) -> None:
        if self.down:
            raise ConnectionError("the database is down")
        await super().heartbeat(owner, at)


class _Clock:
    seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


async def _running_of(store: InMemoryJobRecordStore, owner: str) -> ULID:
    record = transition(JobRecord(id=ULID(), submitted_at=T0), JobStatus.running, at=T0)
    await store.save([record], owner)
    return record.id


async def test_housekeeping_fails_silent_owners_only_once_this_owner_has_been_heard_for_stale_after() -> None:
    store, clock = _OutageStore(), _Clock()
    watch = OwnerWatch(store, "me", stale_after=30, clock=clock)
    await store.heartbeat("other", T0)
    job = await _running_of(store, "other")
    await watch.start(T0)

    clock.seconds = 29
    await watch.beat(T0 + timedelta(seconds=60))  # "other" is silent for 60 s, but "me" was heard for 29 s only
    assert (await store.get(job)).status == JobStatus.running  # type: ignore[union-attr]

    store.down = True  # an outage: nobody's heartbeat is written, so every neighbour falls silent
    clock.seconds = 31
    with pytest.raises(ConnectionError):
        await watch.beat(T0 + timedelta(seconds=62))
    store.down = False
    clock.seconds = 200
    await watch.beat(T0 + timedelta(seconds=200))  # back: "me" judges nobody until heard for 30 s again
    clock.seconds = 229
    await watch.beat(T0 + timedelta(seconds=229))
    assert (await store.get(job)).status == JobStatus.running  # type: ignore[union-attr]

    clock.seconds = 230
    await watch.beat(T0 + timedelta(seconds=230))
    record = await store.get(job)
    assert record is not None and (record.status, record.error) == (JobStatus.failed, INTERRUPTED_ERROR)


async def test_start_judges_silent_owners_at_once() -> None:
    store = InMemoryJobRecordStore()
    await store.heartbeat("other", T0)
    job = await _running_of(store, "other")
    await OwnerWatch(store, "me", stale_after=30, clock=_Clock()).start(T0 + timedelta(seconds=31))
    assert (await store.get(job)).status == JobStatus.failed  # type: ignore[union-attr]


async def test_a_running_scheduler_fails_the_jobs_of_an_owner_that_fell_silent() -> None:
    store = InMemoryJobRecordStore()
    silent = AIOJobScheduler(store=store, heartbeat_interval=3600)  # beats once, at start: then falls silent
    watching = AIOJobScheduler(store=store, heartbeat_interval=0.01, stale_after=0.1)
    await watching.start()
    gate = asyncio.Event()
    job = await silent.add_job(gate.wait)
    await silent.flush()

    await watching.wait(job, timeout=30)  # nobody restarts: the watching scheduler's housekeeping ends it

    record = await watching.get_record(job)
    assert (record.status, record.error) == (JobStatus.failed, INTERRUPTED_ERROR)
    for scheduler in (silent, watching):
        await scheduler.shutdown()
