"""Tables of the review dashboard: reviewers, their sessions, the audit log, snoozes,
what each reviewer last looked at, and the outbox of enforcement webhooks.

Created by migration 0003. Decisions themselves live in ``decisions`` (migration 0002),
because the scorer reads them back as labels; the audit log records every reviewer
action, decisions included, so that a case's history reads in one place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from detector.store.models import Base, Int64Key


class ReviewerRow(Base):
    """A person who signs in to the dashboard; created with ``detector reviewer add``."""

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    # "scrypt$n$r$p$salt$hash" (see detector/dashboard/passwords.py).
    password_hash: Mapped[str] = mapped_column(String(512))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewerSessionRow(Base):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is
    stored, so a leaked table cannot be replayed as cookies. Sign-out deletes the row."""

    __tablename__ = "reviewer_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(
        Int64Key, ForeignKey("reviewers.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class AuditRow(Base):
    """One reviewer action: a decision, a snooze, a reopen. Append-only.

    ``case_id`` carries no foreign key on purpose: the audit trail outlives the case.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SnoozeRow(Base):
    """A snoozed case wakes at ``until`` or once its score passes ``wake_above``."""

    __tablename__ = "case_snoozes"

    case_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("cases.case_id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    wake_above: Mapped[float | None] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseViewRow(Base):
    """When a reviewer last opened a case: the queue marks what changed since."""

    __tablename__ = "case_views"

    reviewer_id: Mapped[int] = mapped_column(
        Int64Key, ForeignKey("reviewers.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("cases.case_id", ondelete="CASCADE"), primary_key=True
    )
    viewed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDeliveryRow(Base):
    """The outbox of decision webhooks, written in the decision's own transaction so a
    decision is never lost between the commit and the POST; delivered and retried by
    ``detector.enforcement.webhook``."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Int64Key, primary_key=True, autoincrement=True)
    decision_id: Mapped[int] = mapped_column(Int64Key, index=True)
    url: Mapped[str] = mapped_column(String(2048))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AssignmentRow(Base):
    """Who is working on a case (migration 0007_reviewer): one reviewer at a time."""

    __tablename__ = "case_assignments"

    case_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("cases.case_id", ondelete="CASCADE"), primary_key=True
    )
    reviewer_id: Mapped[int] = mapped_column(
        Int64Key, ForeignKey("reviewers.id", ondelete="CASCADE"), index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
