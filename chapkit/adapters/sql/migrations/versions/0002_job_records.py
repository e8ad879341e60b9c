"""Job records and their owners: durable jobs shared by every process on one database (D16).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_records",
        sa.Column("id", sa.String(26), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_traceback", sa.Text(), nullable=True),
        sa.Column("artifact_id", sa.String(26), nullable=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_job_records_submitted_at", "job_records", ["submitted_at"])
    op.create_index("ix_job_records_owner_status", "job_records", ["owner", "status"])
    op.create_index("ix_job_records_finished_at", "job_records", ["finished_at"])
    op.create_table(
        "job_owners",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_owners")
    op.drop_index("ix_job_records_finished_at", table_name="job_records")
    op.drop_index("ix_job_records_owner_status", table_name="job_records")
    op.drop_index("ix_job_records_submitted_at", table_name="job_records")
    op.drop_table("job_records")
