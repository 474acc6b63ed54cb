"""What became of a case, as a reviewer and a client read it: the outcome of its
standing decision, its decisions, undoing the latest one, and who works on it.

``status`` says where a case sits in the queue (``closed`` for a block and an accept
alike); ``outcome`` says what was decided: ``blocked``, ``accepted``, ``watched``,
``escalated``, ``cleared`` (the pipeline took it out of the queue), or None while
nothing was. A reopened case keeps the outcome of its standing decision: reopening
asks for a new review, it does not revoke a block (``enforcement.blocklist``).

Keyword-only functions that never commit, as in ``reviews``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, insert, select, update

from detector.errors import InvalidRequestError, NotFoundError
from detector.store.pipeline_models import CaseAccountRow, CaseRow, DecisionRow
from detector.store.review_models import AssignmentRow, AuditRow, ReviewerRow, WebhookDeliveryRow
from detector.store.reviews import audit, aware

OUTCOME_OF = {"block": "blocked", "accept": "accepted", "watch": "watched", "escalate": "escalated"}
OUTCOMES = (*OUTCOME_OF.values(), "cleared")

# How long after a decision its author may take it back.
UNDO_WINDOW = timedelta(minutes=10)


def outcome(status: str, latest_action: str | None) -> str | None:
    """The outcome of a case with this status and latest decision."""
    if status == "cleared":
        return "cleared"
    return None if latest_action is None else OUTCOME_OF.get(latest_action)


def outcomes(conn: Connection, *, cases: dict[str, str]) -> dict[str, str | None]:
    """``outcome`` of each case of ``cases`` (case id → status), in one query."""
    if not cases:
        return {}
    latest = (
        select(DecisionRow.case_id, func.max(DecisionRow.id).label("last"))
        .where(DecisionRow.case_id.in_(list(cases)))
        .group_by(DecisionRow.case_id)
        .subquery()
    )
    actions = dict(
        conn.execute(
            select(DecisionRow.case_id, DecisionRow.action).join(
                latest, DecisionRow.id == latest.c.last
            )
        ).all()
    )
    return {case_id: outcome(status, actions.get(case_id)) for case_id, status in cases.items()}


@dataclass(frozen=True, slots=True)
class DecisionLine:
    decision_id: int
    case_id: str
    action: str
    note: str
    actor: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "case_id": self.case_id,
            "action": self.action,
            "outcome": OUTCOME_OF[self.action],
            "note": self.note,
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
        }


def decisions_of(conn: Connection, *, case_id: str) -> list[DecisionLine]:
    """The case's standing decisions, newest first; NotFoundError for an unknown case."""
    if conn.execute(select(CaseRow.case_id).where(CaseRow.case_id == case_id)).first() is None:
        raise NotFoundError(f"case_id: no case {case_id!r}")
    rows = conn.execute(
        select(
            DecisionRow.id,
            DecisionRow.action,
            DecisionRow.note,
            DecisionRow.actor,
            DecisionRow.created_at,
        )
        .where(DecisionRow.case_id == case_id)
        .order_by(DecisionRow.id.desc())
    ).all()
    return [DecisionLine(int(i), case_id, a, n, who, aware(t)) for i, a, n, who, t in rows]


def account_total(conn: Connection, *, case_id: str) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(CaseAccountRow)
            .where(CaseAccountRow.case_id == case_id)
        ).scalar_one()
    )


def undo(conn: Connection, *, case_id: str, decision_id: int, actor: str, now: datetime) -> str:
    """Take back a decision within ``UNDO_WINDOW`` of it, by whoever made it, while it
    is still the case's latest: the decision goes (and its accounts off the blocklist),
    the case returns to the status it had, and the audit log keeps both. A webhook
    not yet delivered is withdrawn; one already delivered is followed by an ``undo``
    event. Returns the status restored."""
    row = conn.execute(
        select(DecisionRow.__table__).where(
            DecisionRow.id == decision_id, DecisionRow.case_id == case_id
        )
    ).first()
    if row is None:
        raise NotFoundError(f"decision_id: no decision {decision_id} on case {case_id!r}")
    newest = conn.execute(
        select(func.max(DecisionRow.id)).where(DecisionRow.case_id == case_id)
    ).scalar_one()
    if newest != decision_id:
        raise InvalidRequestError(f"decision_id: {decision_id} is no longer the latest decision")
    if row.actor != actor:
        raise InvalidRequestError(f"decision_id: {decision_id} was made by another reviewer")
    if now - aware(row.created_at) > UNDO_WINDOW:
        minutes = int(UNDO_WINDOW.total_seconds() // 60)
        raise InvalidRequestError(
            f"decision_id: {decision_id} is older than {minutes} minutes; reopen the case instead"
        )
    made = conn.execute(
        select(AuditRow.detail)
        .where(AuditRow.case_id == case_id, AuditRow.action == row.action)
        .order_by(AuditRow.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    before = str((made or {}).get("from_status") or "open")
    conn.execute(delete(DecisionRow).where(DecisionRow.id == decision_id))
    conn.execute(
        update(CaseRow).where(CaseRow.case_id == case_id).values(status=before, updated_at=now)
    )
    pending = conn.execute(
        delete(WebhookDeliveryRow).where(
            WebhookDeliveryRow.decision_id == decision_id, WebhookDeliveryRow.state == "pending"
        )
    ).rowcount
    sent = conn.execute(
        select(WebhookDeliveryRow.url).where(WebhookDeliveryRow.decision_id == decision_id)
    ).scalars()
    for url in list(sent) if not pending else []:
        payload = {
            "event": "undo",
            "decision_id": decision_id,
            "case_id": case_id,
            "action": row.action,
            "status": before,
            "actor": actor,
            "undone_at": now.isoformat(),
        }
        conn.execute(
            insert(WebhookDeliveryRow).values(
                decision_id=decision_id,
                url=url,
                payload=orjson.dumps(payload).decode(),
                state="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    detail = {"decision_id": decision_id, "undid": row.action, "status": before}
    audit(conn, case_id=case_id, actor=actor, action="undo", detail=detail, now=now)
    return before


# --- assignment ----------------------------------------------------------------------


def assign(
    conn: Connection, *, case_id: str, reviewer_id: int | None, actor: str, now: datetime
) -> None:
    """Give the case to a reviewer (None: to nobody), audited."""
    if conn.execute(select(CaseRow.case_id).where(CaseRow.case_id == case_id)).first() is None:
        raise NotFoundError(f"case_id: no case {case_id!r}")
    conn.execute(delete(AssignmentRow).where(AssignmentRow.case_id == case_id))
    if reviewer_id is not None:
        conn.execute(
            insert(AssignmentRow).values(case_id=case_id, reviewer_id=reviewer_id, assigned_at=now)
        )
    action = "assign" if reviewer_id is not None else "unassign"
    audit(conn, case_id=case_id, actor=actor, action=action, now=now)


def assignees(conn: Connection, *, case_ids: list[str]) -> dict[str, str]:
    """Case id → the username it is assigned to, for those assigned."""
    if not case_ids:
        return {}
    rows = conn.execute(
        select(AssignmentRow.case_id, ReviewerRow.username)
        .join(ReviewerRow, ReviewerRow.id == AssignmentRow.reviewer_id)
        .where(AssignmentRow.case_id.in_(case_ids))
    ).all()
    return {case_id: username for case_id, username in rows}
