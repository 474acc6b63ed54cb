"""Event log (keys and segments) and accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Int64Key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "event_keys",
        sa.Column("ts", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("ts", "key", name=op.f("pk_event_keys")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "segments",
        sa.Column("id", Int64Key, autoincrement=True, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("ts_min", sa.Float(precision=53), nullable=True),
        sa.Column("ts_max", sa.Float(precision=53), nullable=True),
        sa.Column("encoding", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(length=1024), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("org_id", sa.String(length=1024), nullable=True),
        sa.Column("payment_fingerprint", sa.String(length=1024), nullable=True),
        sa.Column("email_domain", sa.String(length=1024), nullable=True),
        sa.Column("signup_ip", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("program", sa.String(length=1024), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_index(op.f("ix_accounts_created_at"), "accounts", ["created_at"])
    op.create_index(op.f("ix_accounts_payment_fingerprint"), "accounts", ["payment_fingerprint"])


def downgrade() -> None:
    op.drop_index(op.f("ix_accounts_payment_fingerprint"), table_name="accounts")
    op.drop_index(op.f("ix_accounts_created_at"), table_name="accounts")
    op.drop_table("accounts")
    op.drop_table("segments")
    op.drop_table("event_keys")
