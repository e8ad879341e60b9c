"""The job state machine (D15): legal and illegal transitions, and the records they produce."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from ulid import ULID

from chapkit import ConflictError, InvalidJobTransitionError, JobRecord, JobStatus
from chapkit.domain.job_states import (
    TERMINAL_STATUSES,
    UNFINISHED_STATUSES,
    ancestors,
    can_reach,
    can_transition,
    check_transition,
    is_terminal,
    transition,
)

P, R, C, F, X = JobStatus.pending, JobStatus.running, JobStatus.completed, JobStatus.failed, JobStatus.canceled
LEGAL = {(P, R), (P, X), (P, F), (R, C), (R, F), (R, X)}
T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
T1 = datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)


@pytest.mark.parametrize(("current", "requested"), list(itertools.product(JobStatus, JobStatus)))
def test_exactly_the_d15_transitions_are_legal(current: JobStatus, requested: JobStatus) -> None:
    assert can_transition(current, requested) is ((current, requested) in LEGAL)
    if (current, requested) in LEGAL:
        check_transition(current, requested)
    else:
        with pytest.raises(InvalidJobTransitionError) as raised:
            check_transition(current, requested)
        assert raised.value.current is current and raised.value.requested is requested
        assert f"{current.value} to {requested.value}" in raised.value.detail


def test_terminal_and_unfinished_statuses() -> None:
    assert {C, F, X} == TERMINAL_STATUSES
    assert {P, R} == UNFINISHED_STATUSES
    assert [is_terminal(s) for s in (P, R, C, F, X)] == [False, False, True, True, True]


def test_illegal_transition_is_a_conflict_with_the_job_id() -> None:
    job_id = ULID()
    with pytest.raises(ConflictError) as raised:
        check_transition(C, R, job_id=job_id)
    assert raised.value.status == 409
    assert str(job_id) in raised.value.detail


def test_reachability_goes_through_running_but_never_leaves_a_terminal_status() -> None:
    assert can_reach(P, C)
    assert can_reach(P, R) and can_reach(R, X)
    assert not can_reach(R, P)
    assert not any(can_reach(done, other) for done in TERMINAL_STATUSES for other in JobStatus)
    assert ancestors(C) == {P, R}
    assert ancestors(R) == {P}
    assert ancestors(P) == frozenset()


def _pending() -> JobRecord:
    return JobRecord(id=ULID(), status=P, submitted_at=T0)


def test_starting_sets_started_at_and_returns_a_new_record() -> None:
    record = _pending()
    started = transition(record, R, at=T1)
    assert (started.status, started.started_at, started.finished_at) == (R, T1, None)
    assert record.status is P and record.started_at is None
    assert started.id == record.id and started.submitted_at == T0


def test_completing_sets_finished_at_and_artifact_id() -> None:
    artifact = ULID()
    done = transition(transition(_pending(), R, at=T0), C, at=T1, artifact_id=artifact)
    assert (done.status, done.started_at, done.finished_at, done.artifact_id) == (C, T0, T1, artifact)
    assert done.error is None and done.error_traceback is None


def test_failing_keeps_error_and_traceback_only() -> None:
    failed = transition(_pending(), F, at=T1, error="ValueError: x", error_traceback="Traceback...", artifact_id=ULID())
    assert (failed.status, failed.finished_at, failed.started_at) == (F, T1, None)
    assert (failed.error, failed.error_traceback, failed.artifact_id) == ("ValueError: x", "Traceback...", None)


def test_canceling_sets_finished_at() -> None:
    canceled = transition(_pending(), X, at=T1, error="ignored")
    assert (canceled.status, canceled.finished_at, canceled.error) == (X, T1, None)


def test_transition_refuses_to_leave_a_terminal_status() -> None:
    done = transition(transition(_pending(), R, at=T0), C, at=T1)
    with pytest.raises(InvalidJobTransitionError):
        transition(done, F, at=T1, error="late")
    with pytest.raises(InvalidJobTransitionError):
        transition(_pending(), C, at=T1)
