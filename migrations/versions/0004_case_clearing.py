"""Cases that stop being anomalous leave the queue: ``cases.last_flagged_at`` and the
``cleared`` status.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES_BEFORE = "status IN ('open', 'in_review', 'snoozed', 'closed')"
STATUSES_AFTER = "status IN ('open', 'in_review', 'snoozed', 'closed', 'cleared')"


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("last_flagged_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_cases_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_cases_status_known"), STATUSES_AFTER)
    # When a stored case was last over the threshold is not on record; its last
    # update is the latest it can have been, so no case is cleared earlier than it
    # would have been had the column always been there.
    op.execute("UPDATE cases SET last_flagged_at = last_event_at")
    with op.batch_alter_table("cases") as batch:
        batch.alter_column(
            "last_flagged_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    # The schema before this revision has no place for a cleared case but the queue.
    op.execute("UPDATE cases SET status = 'open' WHERE status = 'cleared'")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint(op.f("ck_cases_status_known"), type_="check")
        batch.create_check_constraint(op.f("ck_cases_status_known"), STATUSES_BEFORE)
        batch.drop_column("last_flagged_at")
