"""The job-record store port's contract, run unchanged on memory, SQLite (memory, file) and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ulid import ULID

from chapkit import ConflictError, InvalidJobTransitionError, JobRecord, JobRecordStore, JobStatus
from chapkit.domain.job_states import transition
from chapkit.domain.ports.job_store import INTERRUPTED_ERROR, QUEUED_OWNER
from chapkit.embedding import Storage

NOW = datetime.now(UTC).replace(microsecond=123456)


@pytest.fixture
def store(storage: Storage) -> JobRecordStore:
    assert storage.scheduler is not None
    job_store = storage.scheduler.store  # type: ignore[attr-defined]
    assert isinstance(job_store, JobRecordStore)
    return job_store


def _record(offset_s: float = 0.0, status: JobStatus = JobStatus.pending) -> JobRecord:
    record = JobRecord(id=ULID(), submitted_at=NOW + timedelta(seconds=offset_s))
    at = NOW + timedelta(seconds=offset_s + 1)
    if status is not JobStatus.pending:
        if status in (JobStatus.running, JobStatus.completed):
            record = transition(record, JobStatus.running, at=at)
        if status is not JobStatus.running:
            record = transition(
                record, status, at=at + timedelta(seconds=1), error="E: x" if status == "failed" else None
            )
    return record


async def test_saved_records_are_read_back_equal_with_their_owner(store: JobRecordStore) -> None:
    artifact = ULID()
    done = transition(
        transition(_record(), JobStatus.running, at=NOW), JobStatus.completed, at=NOW, artifact_id=artifact
    )
    failed = _record(1, JobStatus.failed).model_copy(update={"error_traceback": "Traceback\n  line\nE: x\n"})
    await store.save([done, failed], "owner-a")
    assert await store.get(done.id) == done
    assert await store.get(failed.id) == failed
    assert await store.owner_of(done.id) == "owner-a"
    stored = await store.get(done.id)
    assert stored is not None and stored.submitted_at is not None and stored.submitted_at.tzinfo is not None
    assert await store.get(ULID()) is None
    assert await store.owner_of(ULID()) is None


async def test_saving_an_existing_id_conflicts_and_stores_none_of_the_batch(store: JobRecordStore) -> None:
    first = _record()
    await store.save([first], "a")
    fresh = _record(1)
    with pytest.raises(ConflictError):
        await store.save([fresh, first], "b")
    assert await store.get(fresh.id) is None
    assert await store.owner_of(first.id) == "a"


async def test_update_follows_the_state_machine(store: JobRecordStore) -> None:
    pending, running, done = _record(0), _record(1, JobStatus.running), _record(2, JobStatus.completed)
    await store.save([pending, running, done], "a")
    started = transition(pending, JobStatus.running, at=NOW)
    finished = transition(running, JobStatus.failed, at=NOW, error="ValueError: boom", error_traceback="tb")
    back_to_running = done.model_copy(update={"status": JobStatus.running})
    unknown = _record(3)
    written = await store.update([unknown, started, finished, back_to_running])
    assert written == [started.id, finished.id]
    assert await store.get(pending.id) == started
    assert await store.get(running.id) == finished
    assert await store.get(done.id) == done
    assert await store.get(unknown.id) is None


async def test_update_may_skip_intermediate_statuses_but_never_moves_a_terminal_record(store: JobRecordStore) -> None:
    pending = _record()
    await store.save([pending], "a")
    done = transition(transition(pending, JobStatus.running, at=NOW), JobStatus.completed, at=NOW)
    assert await store.update([done]) == [pending.id]
    late = done.model_copy(update={"status": JobStatus.canceled})
    assert await store.update([late, done]) == []
    assert await store.get(pending.id) == done


async def test_update_rewrites_an_unfinished_status_in_place(store: JobRecordStore) -> None:
    running = _record(0, JobStatus.running)
    await store.save([running], "a")
    assert await store.update([running]) == [running.id]
    assert await store.get(running.id) == running


async def test_list_is_newest_first_and_paged(store: JobRecordStore) -> None:
    records = [_record(offset) for offset in (5, 1, 3, 2, 4)]
    await store.save(records, "a")
    newest_first = sorted(records, key=lambda r: r.submitted_at or NOW, reverse=True)
    assert await store.list_records() == newest_first
    assert await store.list_records(offset=1, limit=2) == newest_first[1:3]
    assert await store.list_records(offset=4, limit=10) == newest_first[4:]
    assert await store.list_records(offset=5) == []
    assert await store.count() == 5


async def test_records_with_equal_submission_times_are_ordered_by_id_descending(store: JobRecordStore) -> None:
    first, second = JobRecord(id=ULID(), submitted_at=NOW), JobRecord(id=ULID(), submitted_at=NOW)
    await store.save([first, second], "a")
    assert [r.id for r in await store.list_records()] == sorted([first.id, second.id], reverse=True)


async def test_returned_records_are_copies(store: JobRecordStore) -> None:
    record = _record()
    await store.save([record], "a")
    record.error = "changed after saving"
    [listed] = await store.list_records()
    listed.error = "changed after reading"
    assert (await store.get(record.id)) == _without_error(record)


def _without_error(record: JobRecord) -> JobRecord:
    return record.model_copy(update={"error": None})


async def test_delete_removes_only_that_record(store: JobRecordStore) -> None:
    keep, gone = _record(0), _record(1)
    await store.save([keep, gone], "a")
    assert await store.delete(gone.id) is True
    assert await store.delete(gone.id) is False
    assert await store.get(gone.id) is None
    assert [r.id for r in await store.list_records()] == [keep.id]
    assert await store.count() == 1


async def test_cancel_requests_reach_the_owner_of_unfinished_records_only(store: JobRecordStore) -> None:
    mine_pending, mine_running, mine_done = _record(0), _record(1, JobStatus.running), _record(2, JobStatus.completed)
    theirs = _record(3, JobStatus.running)
    await store.save([mine_pending, mine_running, mine_done], "me")
    await store.save([theirs], "them")
    assert await store.cancel_requests("me") == []
    assert await store.request_cancel(mine_running.id) is True
    assert await store.request_cancel(mine_done.id) is False
    assert await store.request_cancel(theirs.id) is True
    assert await store.request_cancel(ULID()) is False
    assert await store.cancel_requests("me") == [mine_running.id]
    assert await store.cancel_requests("them") == [theirs.id]
    await store.update([transition(mine_running, JobStatus.canceled, at=NOW)])
    assert await store.cancel_requests("me") == []
    assert (await store.get(mine_done.id)) == mine_done


async def test_fail_stale_fails_only_dead_owners_unfinished_records(store: JobRecordStore) -> None:
    later = NOW + timedelta(seconds=60)
    await store.heartbeat("dead", NOW - timedelta(seconds=120))
    await store.heartbeat("alive", NOW - timedelta(seconds=300))
    await store.heartbeat("alive", later)
    dead_pending, dead_running, dead_done = _record(0), _record(1, JobStatus.running), _record(2, JobStatus.completed)
    ghost_running = _record(3, JobStatus.running)
    alive_pending, alive_running = _record(4), _record(5, JobStatus.running)
    await store.save([dead_pending, dead_running, dead_done], "dead")
    await store.save([ghost_running], "never-beat")
    await store.save([alive_pending, alive_running], "alive")

    failed = await store.fail_stale(stale_before=NOW, at=later)

    assert failed == 3
    for record in (dead_pending, dead_running, ghost_running):
        stored = await store.get(record.id)
        assert stored is not None
        assert (stored.status, stored.error, stored.finished_at) == (JobStatus.failed, INTERRUPTED_ERROR, later)
        assert stored.started_at == record.started_at
    assert await store.get(dead_done.id) == dead_done
    assert await store.get(alive_pending.id) == alive_pending
    assert await store.get(alive_running.id) == alive_running
    assert await store.fail_stale(stale_before=NOW, at=later) == 0


async def test_a_released_owner_counts_as_stale(store: JobRecordStore) -> None:
    running = _record(0, JobStatus.running)
    await store.heartbeat("leaving", NOW)
    await store.save([running], "leaving")
    assert await store.fail_stale(stale_before=NOW - timedelta(seconds=1), at=NOW) == 0
    await store.release("leaving")
    assert await store.fail_stale(stale_before=NOW - timedelta(seconds=1), at=NOW, error="gone") == 1
    stored = await store.get(running.id)
    assert stored is not None and (stored.status, stored.error) == (JobStatus.failed, "gone")


async def test_fail_owners_fails_the_named_owners_unfinished_records_whatever_their_heartbeat(
    store: JobRecordStore,
) -> None:
    later = NOW + timedelta(seconds=5)
    for owner in ("dead", "also-dead", "alive"):
        await store.heartbeat(owner, NOW)
    dead_pending, dead_running, dead_done = _record(0), _record(1, JobStatus.running), _record(2, JobStatus.completed)
    other_dead_running, alive_running = _record(3, JobStatus.running), _record(4, JobStatus.running)
    await store.save([dead_pending, dead_running, dead_done], "dead")
    await store.save([other_dead_running], "also-dead")
    await store.save([alive_running], "alive")

    assert await store.fail_owners([], at=later) == 0
    assert await store.fail_owners(["dead", "also-dead", "unknown"], at=later, error="gone") == 3

    for record in (dead_pending, dead_running, other_dead_running):
        stored = await store.get(record.id)
        assert stored is not None
        assert (stored.status, stored.error, stored.finished_at) == (JobStatus.failed, "gone", later)
        assert stored.started_at == record.started_at
    assert await store.get(dead_done.id) == dead_done
    assert await store.get(alive_running.id) == alive_running
    # Their heartbeats are forgotten with them; the live owner's is kept.
    assert await store.fail_stale(stale_before=NOW - timedelta(seconds=1), at=later) == 0
    await store.save([_record(5, JobStatus.running)], "dead")
    assert await store.fail_stale(stale_before=NOW - timedelta(seconds=1), at=later) == 1


async def test_prune_deletes_finished_records_older_than_the_cutoff(store: JobRecordStore) -> None:
    old_done, old_failed, new_done = (
        _record(0, JobStatus.completed),
        _record(1, JobStatus.failed),
        _record(100, JobStatus.completed),
    )
    old_running = _record(-100, JobStatus.running)
    await store.save([old_done, old_failed, new_done, old_running], "a")
    assert await store.prune(finished_before=NOW + timedelta(seconds=50)) == 2
    assert {r.id for r in await store.list_records()} == {new_done.id, old_running.id}


async def test_claim_gives_a_pending_record_to_exactly_one_claimer(store: JobRecordStore) -> None:
    queued, running = _record(), _record(1, JobStatus.running)
    await store.save([queued, running], QUEUED_OWNER)
    outcomes = await asyncio.gather(
        *(
            store.claim(queued.id, from_owner=QUEUED_OWNER, to_owner=f"worker-{n}", status=JobStatus.running, at=NOW)
            for n in range(4)
        )
    )
    claimed = [record for record in outcomes if record is not None]
    assert len(claimed) == 1 and claimed[0] == transition(queued, JobStatus.running, at=NOW)
    assert await store.get(queued.id) == claimed[0]
    assert await store.owner_of(queued.id) == f"worker-{outcomes.index(claimed[0])}"

    def claim(job_id: ULID) -> Any:
        return store.claim(job_id, from_owner=QUEUED_OWNER, to_owner="w", status=JobStatus.canceled, at=NOW)

    assert await claim(running.id) is None  # no longer pending
    assert await claim(queued.id) is None  # someone else's now
    assert await claim(ULID()) is None


async def test_a_claim_may_cancel_a_queued_record_but_not_finish_it(store: JobRecordStore) -> None:
    queued = _record()
    await store.save([queued], QUEUED_OWNER)
    with pytest.raises(InvalidJobTransitionError):
        await store.claim(queued.id, from_owner=QUEUED_OWNER, to_owner="w", status=JobStatus.completed, at=NOW)
    canceled = await store.claim(queued.id, from_owner=QUEUED_OWNER, to_owner="w", status=JobStatus.canceled, at=NOW)
    assert canceled == transition(queued, JobStatus.canceled, at=NOW) == await store.get(queued.id)


async def test_results_are_kept_beside_their_record_and_go_with_it(store: JobRecordStore) -> None:
    running, failed = _record(0, JobStatus.running), _record(1, JobStatus.failed)
    await store.save([running, failed], "a")
    assert await store.get_result(running.id) is None
    record = transition(running, JobStatus.completed, at=NOW)
    unknown = _record(2, JobStatus.completed)
    written = await store.update(
        [record, failed.model_copy(update={"error": "rewritten"}), unknown],
        results={record.id: '{"mean": 2.5}', failed.id: "not written", unknown.id: "unknown"},
    )
    assert written == [record.id]  # a terminal record is never rewritten, an unknown one never stored
    assert await store.get_result(record.id) == '{"mean": 2.5}'
    assert await store.get_result(failed.id) is None and await store.get_result(unknown.id) is None
    assert await store.get(record.id) == record
    await store.delete(record.id)
    assert await store.get_result(record.id) is None
