"""Owner locks: the owners that hold a PostgreSQL advisory lock for their lifetime (D16).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_owner_locks",
        sa.Column("owner", sa.String(128), primary_key=True),
        sa.Column("lock_key", sa.BigInteger(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_owner_locks")
