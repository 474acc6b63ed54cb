"""Decisions, snoozes, reopening, regressions, what reviewers looked at, and the
audit log (reviewer accounts and sessions are in ``reviewers``).

Keyword-only functions that never commit: the caller owns the unit of work, so a
decision, its status change, its audit entry and its webhook are one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Row, delete, func, insert, select, update

from detector.errors import InvalidRequestError, NotFoundError
from detector.store.pipeline_models import CaseAccountRow, CaseRow, DecisionRow
from detector.store.review_models import (
    AuditRow,
    CaseViewRow,
    SnoozeRow,
    WebhookDeliveryRow,
)

# What a decision does to the case: accept and block settle it; watch and escalate
# keep it in review, out of the open queue but not finished.
STATUS_AFTER = {
    "accept": "closed",
    "block": "closed",
    "watch": "in_review",
    "escalate": "in_review",
}
CLOSING = frozenset(action for action, status in STATUS_AFTER.items() if status == "closed")
# Audit actions that are a reviewer's say on a case's status. The system's own
# (``wake``, ``regressed``, and the pipeline's ``clear`` and ``reflagged``) are not:
# a case whose latest word came from a reviewer is never cleared by the pipeline.
REVIEWER_ACTIONS = frozenset(STATUS_AFTER) | {"snooze", "reopen"}


# --- decisions, snoozes, reopen ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decided:
    decision_id: int
    case_id: str
    action: str
    status: str
    created_at: datetime


def decide(
    conn: Connection,
    *,
    case_id: str,
    action: str,
    note: str,
    actor: str,
    now: datetime,
    webhook_url: str | None = None,
) -> Decided:
    """Record a decision: the label, the case's new status, the audit entry and, when
    a webhook is configured, its delivery, all in the caller's transaction."""
    if action not in STATUS_AFTER:
        raise InvalidRequestError(f"action: {action!r} is not one of {', '.join(STATUS_AFTER)}")
    case = _case(conn, case_id)
    result = conn.execute(
        insert(DecisionRow).values(
            case_id=case_id, action=action, note=note, actor=actor, created_at=now
        )
    )
    decision_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    status = STATUS_AFTER[action]
    conn.execute(
        update(CaseRow).where(CaseRow.case_id == case_id).values(status=status, updated_at=now)
    )
    conn.execute(delete(SnoozeRow).where(SnoozeRow.case_id == case_id))
    # What the case looked like when it was decided: a regression is measured against it.
    snapshot = {
        "decision_id": decision_id,
        "status": status,
        # What an undo returns the case to (``store.outcomes.undo``).
        "from_status": case.status,
        "score": case.score,
        "account_count": case.account_count,
        "record_count": case.record_count,
        "last_event_at": aware(case.last_event_at).isoformat(),
    }
    audit(conn, case_id=case_id, actor=actor, action=action, note=note, detail=snapshot, now=now)
    if webhook_url:
        accounts = conn.execute(
            select(CaseAccountRow.account_id)
            .where(CaseAccountRow.case_id == case_id)
            .order_by(CaseAccountRow.account_id)
        ).scalars()
        payload = {
            "event": "decision",
            "decision_id": decision_id,
            "case_id": case_id,
            "action": action,
            "status": status,
            "note": note,
            "actor": actor,
            "decided_at": now.isoformat(),
            "score": case.score,
            "account_ids": list(accounts),
        }
        conn.execute(
            insert(WebhookDeliveryRow).values(
                decision_id=decision_id,
                url=webhook_url,
                payload=orjson.dumps(payload).decode(),
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return Decided(decision_id, case_id, action, status, now)


def snooze(
    conn: Connection,
    *,
    case_id: str,
    actor: str,
    now: datetime,
    until: datetime | None = None,
    rise: float | None = None,
    note: str = "",
) -> None:
    """Put a case aside until ``until`` or until its score rises by ``rise``."""
    if until is None and rise is None:
        raise InvalidRequestError("snooze: give a date (until) or a score rise (rise), or both")
    if until is not None and until <= now:
        raise InvalidRequestError(f"until: {until.isoformat()} is not in the future")
    if rise is not None and not 0 < rise < 1:
        raise InvalidRequestError(f"rise: {rise} is not between 0 and 1")
    case = _case(conn, case_id)
    wake_above = None if rise is None else min(case.score + rise, 1.0)
    conn.execute(delete(SnoozeRow).where(SnoozeRow.case_id == case_id))
    conn.execute(
        insert(SnoozeRow).values(
            case_id=case_id, until=until, wake_above=wake_above, actor=actor, created_at=now
        )
    )
    conn.execute(
        update(CaseRow).where(CaseRow.case_id == case_id).values(status="snoozed", updated_at=now)
    )
    detail: dict[str, Any] = {"until": until.isoformat() if until else None}
    detail["wake_above"] = wake_above
    audit(conn, case_id=case_id, actor=actor, action="snooze", note=note, detail=detail, now=now)


def reopen(conn: Connection, *, case_id: str, actor: str, now: datetime, note: str = "") -> None:
    """Send a case back to the open queue; its past decisions stay on record."""
    case = _case(conn, case_id)
    conn.execute(delete(SnoozeRow).where(SnoozeRow.case_id == case_id))
    conn.execute(
        update(CaseRow).where(CaseRow.case_id == case_id).values(status="open", updated_at=now)
    )
    detail = {"from": case.status}
    audit(conn, case_id=case_id, actor=actor, action="reopen", note=note, detail=detail, now=now)


def due_snoozes(conn: Connection, *, now: datetime) -> list[tuple[str, str]]:
    """Snoozed cases whose date has come or whose score has risen, with the reason."""
    snoozed = conn.execute(
        select(SnoozeRow.case_id, SnoozeRow.until, SnoozeRow.wake_above, CaseRow.score)
        .join(CaseRow, CaseRow.case_id == SnoozeRow.case_id)
        .where(CaseRow.status == "snoozed")
    ).all()
    due = []
    for case_id, until, wake_above, score in snoozed:
        if until is not None and aware(until) <= now:
            due.append((case_id, "date reached"))
        elif wake_above is not None and score >= wake_above:
            due.append((case_id, f"score rose to {score:.2f}"))
    return due


def wake_snoozed(conn: Connection, *, now: datetime) -> list[str]:
    """Reopen the snoozed cases that are due (see ``due_snoozes``)."""
    due = due_snoozes(conn, now=now)
    for case_id, reason in due:
        conn.execute(delete(SnoozeRow).where(SnoozeRow.case_id == case_id))
        conn.execute(
            update(CaseRow).where(CaseRow.case_id == case_id).values(status="open", updated_at=now)
        )
        audit(conn, case_id=case_id, actor="system", action="wake", note=reason, now=now)
    return [case_id for case_id, _ in due]


def due_regressions(conn: Connection) -> list[tuple[str, str, dict[str, int]]]:
    """Closed cases that came back: (case id, the closing action, their size now).

    A case has regressed when the pipeline has written to it since it was closed and
    it has grown: more records, or new accounts (a banned hydra account replaced),
    with activity later than what was decided on.
    """
    closing = (
        select(AuditRow.case_id, func.max(AuditRow.id).label("last"))
        .where(AuditRow.action.in_(sorted(CLOSING)))
        .group_by(AuditRow.case_id)
        .subquery()
    )
    # Only cases written to after their closing decision are candidates; the
    # comparison runs in the database so a queue of closed cases costs one query.
    candidates = conn.execute(
        select(
            CaseRow.case_id,
            CaseRow.record_count,
            CaseRow.account_count,
            CaseRow.last_event_at,
            AuditRow.action,
            AuditRow.detail,
        )
        .join(closing, closing.c.case_id == CaseRow.case_id)
        .join(AuditRow, AuditRow.id == closing.c.last)
        .where(CaseRow.status == "closed", CaseRow.updated_at > AuditRow.created_at)
    ).all()
    due = []
    for case_id, records, accounts, last_event_at, action, before in candidates:
        grew = records > before.get("record_count", records) or accounts > before.get(
            "account_count", accounts
        )
        decided_at = before.get("last_event_at")
        later = decided_at is None or aware(last_event_at) > datetime.fromisoformat(decided_at)
        if grew and later:
            due.append((case_id, action, {"record_count": records, "account_count": accounts}))
    return due


def mark_regressions(conn: Connection, *, now: datetime) -> list[str]:
    """Reopen the closed cases that came back (see ``due_regressions``), audited as
    ``regressed`` so the queue marks them."""
    due = due_regressions(conn)
    for case_id, action, size in due:
        conn.execute(
            update(CaseRow).where(CaseRow.case_id == case_id).values(status="open", updated_at=now)
        )
        detail = {"after": action, **size}
        audit(conn, case_id=case_id, actor="system", action="regressed", detail=detail, now=now)
    return [case_id for case_id, _, _ in due]


def mark_viewed(conn: Connection, *, reviewer_id: int, case_id: str, now: datetime) -> None:
    conn.execute(
        delete(CaseViewRow).where(
            CaseViewRow.reviewer_id == reviewer_id, CaseViewRow.case_id == case_id
        )
    )
    conn.execute(
        insert(CaseViewRow).values(reviewer_id=reviewer_id, case_id=case_id, viewed_at=now)
    )


# --- audit -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    case_id: str | None
    actor: str
    action: str
    note: str
    detail: dict[str, Any]
    created_at: datetime


def latest_actions(conn: Connection, *, case_ids: list[str]) -> dict[str, str]:
    """Each of these cases' latest audit action, for those that have one."""
    latest = (
        select(AuditRow.case_id, func.max(AuditRow.id).label("last"))
        .where(AuditRow.case_id.in_(case_ids))
        .group_by(AuditRow.case_id)
        .subquery()
    )
    rows = conn.execute(
        select(AuditRow.case_id, AuditRow.action).join(latest, AuditRow.id == latest.c.last)
    ).all()
    return {case_id: action for case_id, action in rows if case_id is not None}


def audit_trail(
    conn: Connection, *, case_id: str | None = None, limit: int = 200, before_id: int | None = None
) -> list[AuditEntry]:
    """Newest first; one case's, or everyone's."""
    query = select(AuditRow.__table__).order_by(AuditRow.id.desc()).limit(limit)
    if case_id is not None:
        query = query.where(AuditRow.case_id == case_id)
    if before_id is not None:
        query = query.where(AuditRow.id < before_id)
    return [_entry(row) for row in conn.execute(query)]


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        case_id=row.case_id,
        actor=row.actor,
        action=row.action,
        note=row.note,
        detail=dict(row.detail or {}),
        created_at=aware(row.created_at),
    )


def audit(
    conn: Connection,
    *,
    case_id: str | None,
    actor: str,
    action: str,
    now: datetime,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log."""
    conn.execute(
        insert(AuditRow).values(
            case_id=case_id,
            actor=actor,
            action=action,
            note=note,
            detail=detail or {},
            created_at=now,
        )
    )


def _case(conn: Connection, case_id: str) -> Row[Any]:
    case = conn.execute(select(CaseRow.__table__).where(CaseRow.case_id == case_id)).first()
    if case is None:
        raise NotFoundError(f"case_id: no case {case_id!r}")
    return case


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone-aware columns; they hold UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
