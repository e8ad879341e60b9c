"""The job-record store port: durable job records shared by every scheduler process on one database."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from ulid import ULID

from chapkit.domain.jobs import JobRecord, JobStatus
from chapkit.domain.ports.unit_of_work import JobRecordReader

INTERRUPTED_ERROR = "Interrupted: the process running this job stopped before it finished"
"""The `error` of a pending or running record whose owner died (D16)."""

QUEUED_OWNER = "queue"
"""The owner of a job waiting in a distributed queue until a worker claims it (D22).

Real owner ids are `host:pid:token`, so this one never collides with a process.
"""


class JobRecordStore(JobRecordReader):
    """Where schedulers keep `JobRecord`s, so they outlive a process and are shared between processes (D16).

    The reads (`get`, `list_records`, `count`) are those of `JobRecordReader`.

    Every record belongs to an *owner*: the scheduler (process id plus a random token) that runs it. Owners
    prove they are alive with `heartbeat`; only the owner runs a job, other processes read its record and
    may ask for a cancel (`request_cancel`), which the owner honours after polling `cancel_requests`.
    Records are returned as fresh copies; changing one changes nothing stored. Lists are newest first:
    `submitted_at` descending, then id descending. Writes take batches, so that a scheduler persists many
    transitions in one round trip (D16 budget). Every status change written must follow the state machine
    (`chapkit.domain.job_states`, D15); a record that a neighbour already finished (for example marked
    failed after a restart) is never moved again.
    """

    @abstractmethod
    async def save(self, records: Sequence[JobRecord], owner: str) -> None:
        """Insert new records owned by `owner`, in any status (a batch may hold jobs that already finished).

        Raises `ConflictError` (and stores none of them) when an id is already stored.
        """

    @abstractmethod
    async def update(self, records: Sequence[JobRecord], *, results: Mapping[ULID, str] | None = None) -> list[ULID]:
        """Write the new state of stored records; return the ids that were written, in the order given.

        `results` are serialized results kept beside the records written (a finished job's record and
        its result in one write); results of records not written are dropped.

        A record is written when its status can follow the stored status through legal transitions (D15,
        `can_reach`: a batch may carry `completed` over a stored `pending`), or equals the stored status and
        that status is not terminal. Others are skipped without error: unknown or deleted
        ids, and records that a neighbour moved to a terminal status meanwhile.
        """

    @abstractmethod
    async def claim(
        self, job_id: ULID, *, from_owner: str, to_owner: str, status: JobStatus, at: datetime
    ) -> JobRecord | None:
        """Give the pending record of `from_owner` to `to_owner`, moved to `status` at `at`, in one step.

        Returns the record as written, or None when it is unknown, no longer pending, or owned by
        someone else. Of several processes claiming one record at once, exactly one gets it: a queued job
        is run (`running`) or canceled (`canceled`) by whoever claimed it, and by nobody else. A status
        that cannot follow `pending` raises `InvalidJobTransitionError`.
        """

    @abstractmethod
    async def get_result(self, job_id: ULID) -> str | None:
        """Return the serialized result kept for this job (see `update`), or None; deleted with the record."""

    @abstractmethod
    async def owner_of(self, job_id: ULID) -> str | None:
        """Return the owner of the record with this id, or None when it is not stored."""

    @abstractmethod
    async def delete(self, job_id: ULID) -> bool:
        """Remove the record with this id; return whether it was stored."""

    @abstractmethod
    async def request_cancel(self, job_id: ULID) -> bool:
        """Ask the owner to cancel this job; return True when the record is pending or running.

        Records that finished or are unknown are left as they are (False).
        """

    @abstractmethod
    async def cancel_requests(self, owner: str) -> list[ULID]:
        """Return the ids of `owner`'s pending or running records whose cancel was requested."""

    @abstractmethod
    async def heartbeat(self, owner: str, at: datetime) -> None:
        """Record that `owner` is alive at time `at` (creating the owner on first call)."""

    @abstractmethod
    async def release(self, owner: str) -> None:
        """Forget `owner`'s heartbeat (clean shutdown); its records stay."""

    @abstractmethod
    async def fail_stale(self, *, stale_before: datetime, at: datetime, error: str = INTERRUPTED_ERROR) -> int:
        """Mark failed the pending and running records of owners whose last heartbeat is before `stale_before`.

        Owners with no heartbeat at all count as stale. The records get `status=failed`, `finished_at=at`
        and `error`; records of owners with a recent heartbeat are untouched. Stale owners are forgotten.
        Returns the number of records marked failed.
        """

    @abstractmethod
    async def fail_owners(self, owners: Collection[str], *, at: datetime, error: str = INTERRUPTED_ERROR) -> int:
        """Mark failed the pending and running records of `owners`, known to be dead (their lock is free).

        The records get `status=failed`, `finished_at=at` and `error`; the owners' heartbeats are forgotten.
        Returns the number of records marked failed.
        """

    @abstractmethod
    async def prune(self, *, finished_before: datetime) -> int:
        """Delete finished records whose `finished_at` is before `finished_before`; return how many."""


__all__ = ["INTERRUPTED_ERROR", "QUEUED_OWNER", "JobRecordStore"]
