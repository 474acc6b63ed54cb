"""The scaled-out deployment: ``stage1_batches``, ``window_aggregates``, ``stage2_state``.

Revision ID: 0008_window_aggregates
Revises: 0007_reviewer
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_window_aggregates"
down_revision = "0007_reviewer"
branch_labels = None
depends_on = None

Int64Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stage1_batches",
        sa.Column("batch_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("watermark", sa.Float(precision=53), nullable=True),
        sa.Column("windows", sa.Integer(), nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_stage1_batches")),
    )
    op.create_table(
        "stage2_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("after_batch", sa.BigInteger(), nullable=False),
        sa.Column("decisions_seen", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_stage2_state")),
    )
    op.create_table(
        "window_aggregates",
        sa.Column("id", Int64Key, autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.Float(precision=53), nullable=True),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_window_aggregates")),
    )
    op.create_index(
        op.f("ix_window_aggregates_batch_id"), "window_aggregates", ["batch_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_window_aggregates_batch_id"), table_name="window_aggregates")
    op.drop_table("window_aggregates")
    op.drop_table("stage2_state")
    op.drop_table("stage1_batches")
