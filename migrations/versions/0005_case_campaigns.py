"""Cases grouped into campaigns: ``cases.campaign_id``, the oldest case of the group.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("campaign_id", sa.String(length=64), nullable=True))
        batch.create_index(op.f("ix_cases_campaign_id"), ["campaign_id"])


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index(op.f("ix_cases_campaign_id"))
        batch.drop_column("campaign_id")
