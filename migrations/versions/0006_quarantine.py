"""Records and segments the pipeline could not take in, set aside with the error.

Revision ID: 0006_quarantine
Revises: 0005
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_quarantine"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "segment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_quarantine")),
    )
    op.create_index(
        op.f("ix_pipeline_quarantine_segment_id"), "pipeline_quarantine", ["segment_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_pipeline_quarantine_segment_id"), table_name="pipeline_quarantine")
    op.drop_table("pipeline_quarantine")
