"""The banner after a decision: what changed, in words and numbers ("Blocked: 60
accounts on the blocklist"), and whether it can still be undone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from detector.store.outcomes import OUTCOME_OF, UNDO_WINDOW
from detector.store.pipeline_models import CaseAccountRow, DecisionRow
from detector.store.reviews import aware


@dataclass(frozen=True, slots=True)
class Done:
    decision_id: int
    case_id: str
    action: str
    message: str
    # Whether this reviewer may still take it back (theirs, latest, within the window).
    undoable: bool


def decided(conn: Connection, *, decision_ids: list[int], actor: str, now: datetime) -> list[Done]:
    """What each of these decisions did, in id order; unknown ids are skipped (an
    undone decision is gone)."""
    if not decision_ids:
        return []
    rows = conn.execute(
        select(
            DecisionRow.id,
            DecisionRow.case_id,
            DecisionRow.action,
            DecisionRow.actor,
            DecisionRow.created_at,
        )
        .where(DecisionRow.id.in_(decision_ids[:500]))
        .order_by(DecisionRow.id)
    ).all()
    cases = [row[1] for row in rows]
    sizes = dict(
        conn.execute(
            select(CaseAccountRow.case_id, func.count())
            .where(CaseAccountRow.case_id.in_(cases))
            .group_by(CaseAccountRow.case_id)
        ).all()
    )
    latest = dict(
        conn.execute(
            select(DecisionRow.case_id, func.max(DecisionRow.id))
            .where(DecisionRow.case_id.in_(cases))
            .group_by(DecisionRow.case_id)
        ).all()
    )
    done = []
    for decision_id, case_id, action, who, when in rows:
        accounts = int(sizes.get(case_id, 0))
        done.append(
            Done(
                decision_id=int(decision_id),
                case_id=case_id,
                action=action,
                message=say(action, case_id, accounts),
                undoable=who == actor
                and latest.get(case_id) == decision_id
                and now - aware(when) <= UNDO_WINDOW,
            )
        )
    return done


def say(action: str, case_id: str, accounts: int) -> str:
    noun = "account" if accounts == 1 else "accounts"
    if action == "block":
        return (
            f"Blocked: {accounts:,} {noun} of case {case_id} are on the blocklist "
            "(GET /v1/blocklist and the enforcement webhook carry them)."
        )
    if action == "accept":
        return (
            f"Accepted as benign: case {case_id} is closed; none of its {accounts:,} "
            f"{noun} is blocked, and clusters like it will score lower."
        )
    if action == "watch":
        return f"Watched: case {case_id} moved to In review and out of the open queue."
    return f"Escalated: case {case_id} moved to In review for a second reviewer."


def summary(done: list[Done]) -> str:
    """One line for several decisions at once (bulk)."""
    if len(done) == 1:
        return done[0].message
    by_action: dict[str, int] = {}
    for item in done:
        by_action[item.action] = by_action.get(item.action, 0) + 1
    parts = [
        f"{OUTCOME_OF[action].capitalize()} {count:,} {'case' if count == 1 else 'cases'}"
        for action, count in sorted(by_action.items())
    ]
    return "; ".join(parts) + "."
