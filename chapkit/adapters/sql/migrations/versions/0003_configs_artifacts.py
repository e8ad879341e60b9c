"""Configs, artifacts and the links between them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ULID_LENGTH = 26


def _timestamps() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "configs",
        sa.Column("id", sa.String(length=ULID_LENGTH), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_configs_name", "configs", ["name"])

    op.create_table(
        "artifacts",
        sa.Column("id", sa.String(length=ULID_LENGTH), nullable=False),
        sa.Column("parent_id", sa.String(length=ULID_LENGTH), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["parent_id"], ["artifacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_artifacts_parent_id", "artifacts", ["parent_id"])
    op.create_index("ix_artifacts_level", "artifacts", ["level"])

    op.create_table(
        "config_artifacts",
        sa.Column("config_id", sa.String(length=ULID_LENGTH), nullable=False),
        sa.Column("artifact_id", sa.String(length=ULID_LENGTH), nullable=False),
        sa.ForeignKeyConstraint(["config_id"], ["configs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["artifact_id"], ["artifacts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("config_id", "artifact_id"),
        sa.UniqueConstraint("artifact_id", name="uq_config_artifacts_artifact_id"),
    )


def downgrade() -> None:
    op.drop_table("config_artifacts")
    op.drop_index("ix_artifacts_level", table_name="artifacts")
    op.drop_index("ix_artifacts_parent_id", table_name="artifacts")
    op.drop_table("artifacts")
    op.drop_index("ix_configs_name", table_name="configs")
    op.drop_table("configs")
