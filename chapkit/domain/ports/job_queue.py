"""The job queue port: where a distributed scheduler leaves jobs for worker processes (D22)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from chapkit.domain.jobs import JobRecord


class JobQueue(ABC):
    """A durable queue shared by API and worker processes, beside the job records of the same database.

    `enqueue` writes the job's record and its queue entry in one transaction: a job is either recorded
    and queued, or neither, so no worker runs a job nobody can see and no record waits for a job that
    was never queued.
    """

    @abstractmethod
    async def install(self) -> None:
        """Create the queue's own tables when they are missing; safe to call from many processes at once."""

    @abstractmethod
    async def enqueue(self, record: JobRecord, *, owner: str, task: str, payload: dict[str, Any]) -> None:
        """Store `record` (owned by `owner`) and queue a call of the worker task `task` with the JSON `payload`.

        Raises `ConflictError` (and queues nothing) when the record's id is already stored.
        """


__all__ = ["JobQueue"]
