"""Cases that stop being anomalous leave the queue: the pipeline clears a case whose
cluster stayed under the threshold for a stretch of event time, and reopens it when
the cluster is flagged again (docs/detection.md, "Cases").

Keyword-only functions that never commit: the runner calls ``clear_quiet_cases`` in
the transaction of its checkpoint, after the case updates are written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, exists, select, update

from detector.pipeline.cases import CaseUpdate
from detector.store.pipeline_models import CaseRow, DecisionRow
from detector.store.reviews import REVIEWER_ACTIONS, audit, aware, latest_actions


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


PIPELINE_ACTOR = "pipeline"
DAY_SECONDS = 86_400.0


@dataclass(frozen=True, slots=True)
class Clearing:
    """What ``clear_quiet_cases`` changed: cleared cases flagged again (back to
    ``open``) and open cases it cleared."""

    reflagged: list[str]
    cleared: list[str]


def clear_quiet_cases(
    conn: Connection,
    *,
    updates: Iterable[CaseUpdate],
    threshold: float,
    event_time: float | None,
    clear_after_days: float,
    now: datetime | None = None,
) -> Clearing:
    """Move cases in and out of ``cleared`` by event time, after ``write_case_updates``
    wrote ``updates`` in the same transaction.

    A case's ``last_flagged_at`` moves to its latest update scored at or over
    ``threshold``, and a cleared case flagged again goes back to ``open``. Then an
    open case last flagged more than ``clear_after_days`` before ``event_time`` (the
    pipeline's watermark) is cleared: a cluster scored under the threshold and a
    cluster gone alike leave ``last_flagged_at`` behind. A case a reviewer decided on,
    or whose status a reviewer set last (a reopen), is left alone. Both moves are
    audited as the ``pipeline``; ``now`` (wall-clock) dates the audit entries only.
    """
    now = now or datetime.now(UTC)
    flagged: dict[str, tuple[float, float]] = {}
    for item in updates:
        if item.score >= threshold:
            at, score = flagged.get(item.case_id, (item.event_time, item.score))
            flagged[item.case_id] = (max(at, item.event_time), max(score, item.score))
    reflagged = _flag(conn, flagged=flagged, now=now) if flagged else []
    if event_time is None:
        return Clearing(reflagged=reflagged, cleared=[])
    cutoff = _time(event_time - clear_after_days * DAY_SECONDS)
    undecided = ~exists().where(DecisionRow.case_id == CaseRow.case_id)
    quiet = dict(
        conn.execute(
            select(CaseRow.case_id, CaseRow.last_flagged_at).where(
                CaseRow.status == "open", CaseRow.last_flagged_at < cutoff, undecided
            )
        ).all()
    )
    if not quiet:
        return Clearing(reflagged=reflagged, cleared=[])
    candidates = sorted(set(quiet) - _reviewer_had_last_word(conn, list(quiet)))
    # The status is checked again by the update itself: a reviewer's decision that
    # committed since the select stands.
    cleared = sorted(
        conn.execute(
            update(CaseRow)
            .where(CaseRow.case_id.in_(candidates), CaseRow.status == "open", undecided)
            .values(status="cleared", updated_at=now)
            .returning(CaseRow.case_id)
        ).scalars()
    )
    note = f"below the threshold for {clear_after_days:g} days of event time"
    for case_id in cleared:
        detail = {
            "last_flagged_at": aware(quiet[case_id]).isoformat(),
            "event_time": _time(event_time).isoformat(),
            "clear_after_days": clear_after_days,
        }
        audit(
            conn,
            case_id=case_id,
            actor=PIPELINE_ACTOR,
            action="clear",
            note=note,
            detail=detail,
            now=now,
        )
    return Clearing(reflagged=reflagged, cleared=cleared)


def _flag(conn: Connection, *, flagged: dict[str, tuple[float, float]], now: datetime) -> list[str]:
    """Record when each case was last flagged; reopen the cleared ones among them that
    are flagged after they were last flagged before: a state rebuilt from the event
    log replays old ticks, and those must not bring cleared cases back."""
    cleared = conn.execute(
        select(CaseRow.case_id, CaseRow.last_flagged_at).where(
            CaseRow.case_id.in_(sorted(flagged)), CaseRow.status == "cleared"
        )
    ).all()
    again = sorted(
        case_id for case_id, last in cleared if aware(last).timestamp() < flagged[case_id][0]
    )
    conn.execute(
        update(CaseRow)
        .where(CaseRow.case_id == bindparam("cid"), CaseRow.last_flagged_at < bindparam("at"))
        .values(last_flagged_at=bindparam("at")),
        [{"cid": case_id, "at": _time(at)} for case_id, (at, _) in flagged.items()],
    )
    reopened = (
        sorted(
            conn.execute(
                update(CaseRow)
                .where(CaseRow.case_id.in_(again), CaseRow.status == "cleared")
                .values(status="open", updated_at=now)
                .returning(CaseRow.case_id)
            ).scalars()
        )
        if again
        else []
    )
    for case_id in reopened:
        at, score = flagged[case_id]
        detail = {"from": "cleared", "score": round(score, 6), "event_time": _time(at).isoformat()}
        audit(
            conn,
            case_id=case_id,
            actor=PIPELINE_ACTOR,
            action="reflagged",
            note=f"scored {score:.2f}, at or over the threshold again",
            detail=detail,
            now=now,
        )
    return reopened


def _reviewer_had_last_word(conn: Connection, case_ids: list[str]) -> set[str]:
    """Of these cases, those whose latest audit entry is a reviewer's (see
    ``REVIEWER_ACTIONS``): a case a reviewer reopened stays in the queue."""
    latest = latest_actions(conn, case_ids=case_ids)
    return {case_id for case_id, action in latest.items() if action in REVIEWER_ACTIONS}
