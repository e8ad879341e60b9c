"""Baseline: the start of chapkit's schema history.

The foundation defines no chapkit tables of its own yet (users' `Entity` tables are created after the
migrations, D12); later revisions add the job, config and artifact tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to create: this revision marks the schema as managed by chapkit."""


def downgrade() -> None:
    """Nothing to remove."""
