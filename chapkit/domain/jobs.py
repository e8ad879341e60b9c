"""Job records: the status of a scheduled job and what it produced."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from chapkit.domain.ids import ULIDOut


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


__all__ = ["JobRecord", "JobStatus"]
