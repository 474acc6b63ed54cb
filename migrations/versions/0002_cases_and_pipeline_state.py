"""Cases, their accounts, reviewers' decisions, and the pipeline's own state.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Int64Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("cluster_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("peak_score", sa.Float(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("account_count", sa.Integer(), nullable=False),
        sa.Column("record_count", Int64Key, nullable=False),
        sa.Column("capability_mix", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("shared", sa.JSON(), nullable=False),
        sa.Column("timeline", sa.JSON(), nullable=False),
        sa.Column("signatures", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'in_review', 'snoozed', 'closed')",
            name=op.f("ck_cases_status_known"),
        ),
        sa.CheckConstraint("score >= 0 AND score <= 1", name=op.f("ck_cases_score_unit")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_cases")),
    )
    op.create_index(op.f("ix_cases_cluster_id"), "cases", ["cluster_id"])
    op.create_index(op.f("ix_cases_opened_at"), "cases", ["opened_at"])
    op.create_index(op.f("ix_cases_status"), "cases", ["status"])
    op.create_table(
        "case_accounts",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=1024), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_count", Int64Key, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
            name=op.f("fk_case_accounts_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "account_id", name=op.f("pk_case_accounts")),
    )
    op.create_index(op.f("ix_case_accounts_account_id"), "case_accounts", ["account_id"])
    op.create_table(
        "decisions",
        sa.Column("id", Int64Key, autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('accept', 'watch', 'block', 'escalate')",
            name=op.f("ck_decisions_action_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
            name=op.f("fk_decisions_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_case_id"), "decisions", ["case_id"])
    op.create_index(op.f("ix_decisions_created_at"), "decisions", ["created_at"])
    op.create_table(
        "pipeline_segments",
        sa.Column("segment_id", Int64Key, autoincrement=False, nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("late_count", sa.Integer(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", name=op.f("pk_pipeline_segments")),
    )
    op.create_table(
        "pipeline_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("watermark", sa.Float(precision=53), nullable=True),
        sa.Column("max_event", sa.Float(precision=53), nullable=True),
        sa.Column("processed", Int64Key, nullable=False),
        sa.Column("late", Int64Key, nullable=False),
        sa.Column("windows_closed", sa.Integer(), nullable=False),
        sa.Column("decisions_seen", Int64Key, nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pipeline_state")),
    )
    op.create_table(
        "pipeline_lease",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=256), nullable=False),
        sa.Column("expires_at", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pipeline_lease")),
    )


def downgrade() -> None:
    op.drop_table("pipeline_lease")
    op.drop_table("pipeline_state")
    op.drop_table("pipeline_segments")
    op.drop_index(op.f("ix_decisions_created_at"), table_name="decisions")
    op.drop_index(op.f("ix_decisions_case_id"), table_name="decisions")
    op.drop_table("decisions")
    op.drop_index(op.f("ix_case_accounts_account_id"), table_name="case_accounts")
    op.drop_table("case_accounts")
    op.drop_index(op.f("ix_cases_status"), table_name="cases")
    op.drop_index(op.f("ix_cases_opened_at"), table_name="cases")
    op.drop_index(op.f("ix_cases_cluster_id"), table_name="cases")
    op.drop_table("cases")
