"""The job state machine (D15): which status may follow which, and the record a transition produces."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from ulid import ULID

from chapkit.domain.errors import ConflictError
from chapkit.domain.jobs import JobRecord, JobStatus

JOB_TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = MappingProxyType(
    {
        JobStatus.pending: frozenset({JobStatus.running, JobStatus.canceled, JobStatus.failed}),
        JobStatus.running: frozenset({JobStatus.completed, JobStatus.failed, JobStatus.canceled}),
        JobStatus.completed: frozenset(),
        JobStatus.failed: frozenset(),
        JobStatus.canceled: frozenset(),
    }
)
"""Every legal transition (D15); terminal statuses have no successor."""

TERMINAL_STATUSES: frozenset[JobStatus] = frozenset(s for s, after in JOB_TRANSITIONS.items() if not after)
"""Statuses a job never leaves: completed, failed, canceled."""

UNFINISHED_STATUSES: frozenset[JobStatus] = frozenset(JobStatus) - TERMINAL_STATUSES
"""Statuses of a job that has not finished yet: pending, running."""


class InvalidJobTransitionError(ConflictError):
    """A job status change the state machine (D15) does not allow (409)."""

    def __init__(self, current: JobStatus, requested: JobStatus, *, job_id: ULID | None = None) -> None:
        """Describe the refused change from `current` to `requested`."""
        subject = f"Job {job_id}" if job_id is not None else "Job"
        super().__init__(f"{subject} cannot go from {current.value} to {requested.value}")
        self.current = current
        self.requested = requested
        self.job_id = job_id


def is_terminal(status: JobStatus) -> bool:
    """Return whether `status` is final (completed, failed or canceled)."""
    return status in TERMINAL_STATUSES


def can_transition(current: JobStatus, requested: JobStatus) -> bool:
    """Return whether a job in `current` may move to `requested` (D15)."""
    return requested in JOB_TRANSITIONS[current]


def predecessors(status: JobStatus) -> frozenset[JobStatus]:
    """Return the statuses a job may move to `status` from."""
    return frozenset(source for source, after in JOB_TRANSITIONS.items() if status in after)


def can_reach(current: JobStatus, target: JobStatus) -> bool:
    """Return whether a job in `current` may end up in `target` through one or more legal transitions.

    Stores use this when writing a batch: a record written as `completed` over a stored `pending` went
    through `running` in between, while nothing ever moves a terminal record.
    """
    seen: set[JobStatus] = set()
    frontier = set(JOB_TRANSITIONS[current])
    while frontier:
        if target in frontier:
            return True
        seen |= frontier
        frontier = {after for status in frontier for after in JOB_TRANSITIONS[status]} - seen
    return False


def ancestors(status: JobStatus) -> frozenset[JobStatus]:
    """Return the statuses from which a job may end up in `status` through legal transitions."""
    return frozenset(source for source in JobStatus if can_reach(source, status))


def check_transition(current: JobStatus, requested: JobStatus, *, job_id: ULID | None = None) -> None:
    """Raise `InvalidJobTransitionError` unless `current -> requested` is legal."""
    if not can_transition(current, requested):
        raise InvalidJobTransitionError(current, requested, job_id=job_id)


def transition(
    record: JobRecord,
    status: JobStatus,
    *,
    at: datetime,
    error: str | None = None,
    error_traceback: str | None = None,
    artifact_id: ULID | None = None,
) -> JobRecord:
    """Return a copy of `record` moved to `status` at time `at`; illegal moves raise `InvalidJobTransitionError`.

    `running` sets `started_at`; a terminal status sets `finished_at`. `error` and `error_traceback` are
    kept only for `failed`, `artifact_id` only for `completed`.
    """
    check_transition(record.status, status, job_id=record.id)
    changes: dict[str, object] = {"status": status}
    if status is JobStatus.running:
        changes["started_at"] = at
    else:
        changes["finished_at"] = at
    if status is JobStatus.failed:
        changes["error"] = error
        changes["error_traceback"] = error_traceback
    if status is JobStatus.completed:
        changes["artifact_id"] = artifact_id
    return record.model_copy(update=changes)


__all__ = [
    "JOB_TRANSITIONS",
    "TERMINAL_STATUSES",
    "UNFINISHED_STATUSES",
    "InvalidJobTransitionError",
    "ancestors",
    "can_reach",
    "can_transition",
    "check_transition",
    "is_terminal",
    "predecessors",
    "transition",
]
