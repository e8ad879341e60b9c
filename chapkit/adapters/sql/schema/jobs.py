"""Tables of durable job records and of the scheduler processes (owners) that run them (D16)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text, false

from chapkit.adapters.sql.schema.base import Base
from chapkit.adapters.sql.types import ULIDType, UTCDateTime

OWNER_LENGTH = 128
"""Longest owner id stored (host name, process id and a random token)."""

job_records = Table(
    "job_records",
    Base.metadata,
    Column("id", ULIDType, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("submitted_at", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    Column("error", Text, nullable=True),
    Column("error_traceback", Text, nullable=True),
    Column("artifact_id", ULIDType, nullable=True),
    Column("owner", String(OWNER_LENGTH), nullable=False),
    Column("cancel_requested", Boolean, nullable=False, server_default=false()),
    Column("result", Text, nullable=True),
    Index("ix_job_records_submitted_at", "submitted_at"),
    Index("ix_job_records_owner_status", "owner", "status"),
    Index("ix_job_records_finished_at", "finished_at"),
    info={"owner": "chapkit"},
)
"""One row per job: the `JobRecord` fields, its owner, whether a cancel was requested, its serialized result."""

job_owners = Table(
    "job_owners",
    Base.metadata,
    Column("owner", String(OWNER_LENGTH), primary_key=True),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    info={"owner": "chapkit"},
)
"""One row per live scheduler process: its last heartbeat."""

job_owner_locks = Table(
    "job_owner_locks",
    Base.metadata,
    Column("owner", String(OWNER_LENGTH), primary_key=True),
    Column("lock_key", BigInteger, nullable=False),
    Column("locked_at", UTCDateTime, nullable=False),
    info={"owner": "chapkit"},
)
"""One row per owner holding a PostgreSQL advisory lock (`lock_key`) for its lifetime: a row whose lock is
free belongs to a process that died (D16). SQLite files keep lock files beside the database instead."""

__all__ = ["OWNER_LENGTH", "job_owner_locks", "job_owners", "job_records"]
