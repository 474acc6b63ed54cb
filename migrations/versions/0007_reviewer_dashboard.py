"""The reviewer's dashboard: a case's score taken apart (``cases.contributions``),
when it entered the queue by the wall clock (``cases.queued_at``), when each of its
accounts was last active (``case_accounts.last_seen_at``) and who is working
on which case (``case_assignments``).

Revision ID: 0007_reviewer
Revises: 0006_quarantine
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_reviewer"
down_revision = "0006_quarantine"
branch_labels = None
depends_on = None

Int64Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("contributions", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("case_accounts") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "case_assignments",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", Int64Key, nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
            name=op.f("fk_case_assignments_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["reviewers.id"],
            name=op.f("fk_case_assignments_reviewer_id_reviewers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_assignments")),
    )
    op.create_index(op.f("ix_case_assignments_reviewer_id"), "case_assignments", ["reviewer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_assignments_reviewer_id"), table_name="case_assignments")
    op.drop_table("case_assignments")
    with op.batch_alter_table("case_accounts") as batch:
        batch.drop_column("last_seen_at")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("queued_at")
        batch.drop_column("contributions")
