"""Job records: the status of a scheduled job and what it produced."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from ulid import ULID

from chapkit.domain.ids import ULIDOut

_JOB_NAME = "__chapkit_job_name__"
_Function = TypeVar("_Function", bound=Callable[..., Any])


def job_name(name: str) -> Callable[[_Function], _Function]:
    """Name a manager's method as a job: a distributed queue carries this name, never the method's own.

    A worker finds the method by the name on the classes its service provides, so renaming or moving
    the method does not strand jobs already queued. Names are dotted and stable (`chapkit.ml.train`).
    """

    def named(function: _Function) -> _Function:
        setattr(function, _JOB_NAME, name)
        return function

    return named


def job_name_of(function: object) -> str | None:
    """The name `job_name` gave a function (or a bound method's function), or None."""
    name = getattr(getattr(function, "__func__", function), _JOB_NAME, None)
    return name if isinstance(name, str) else None


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What one of chapkit's own jobs produced, said explicitly: the artifact it stored.

    ML train and predict and task runs return one. A scheduler records `artifact_id` as the job's
    `artifact_id`, and the job's result (`get_result`) is that id, as the reference's jobs returned it.
    """

    artifact_id: ULID


def job_result(returned: Any) -> Any:
    """The result of a job that returned `returned`: an outcome's artifact id, any other value as it is."""
    return returned.artifact_id if isinstance(returned, JobOutcome) else returned


def job_artifact_id(returned: Any) -> ULID | None:
    """The `artifact_id` a job that returned `returned` gets recorded with.

    An outcome's artifact id; for a job of a user's own that returned a ULID, that ULID (the reference
    documents that any job returning a ULID records it so); otherwise none.
    """
    if isinstance(returned, JobOutcome):
        return returned.artifact_id
    return returned if isinstance(returned, ULID) else None


class JobStatus(StrEnum):
    """Status of a scheduled job."""

    pending = "pending"
    """Accepted, waiting for a free slot."""
    running = "running"
    """Its target is executing."""
    completed = "completed"
    """Finished and returned a result (terminal)."""
    failed = "failed"
    """Raised, could not start, or was interrupted by a restart (terminal)."""
    canceled = "canceled"
    """Canceled before or while running (terminal)."""


class JobRecord(BaseModel):
    """Complete record of a scheduled job's state and metadata."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: ULIDOut = Field(description="Unique job identifier")
    status: JobStatus = Field(default=JobStatus.pending, description="Current job status")
    submitted_at: datetime | None = Field(default=None, description="When the job was submitted")
    started_at: datetime | None = Field(default=None, description="When the job started running")
    finished_at: datetime | None = Field(default=None, description="When the job finished")
    error: str | None = Field(default=None, description="User-friendly error message if job failed")
    error_traceback: str | None = Field(default=None, description="Full error traceback for debugging")
    artifact_id: ULIDOut | None = Field(
        default=None, description="ID of artifact created by job (if job returns a ULID)"
    )


__all__ = ["JobOutcome", "JobRecord", "JobStatus", "job_artifact_id", "job_name", "job_name_of", "job_result"]
