"""Campaigns in the store: the cases one operation opened apart, grouped under the
oldest of them. The engine groups them (``pipeline.cases.Campaigns``); the store
writes the group on every case of it, since a case whose cluster was absorbed by
another's gets no update of its own any more. Functions never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select, update

from detector.pipeline.cases import CaseUpdate
from detector.store.pipeline_models import CaseRow
from detector.store.reviews import aware


def link_campaigns(conn: Connection, *, updates: Iterable[CaseUpdate], threshold: float) -> None:
    """Set ``campaign_id`` on every case of every campaign that ``updates`` name, and
    raise each one's ``last_flagged_at`` to the campaign's latest: a case whose
    cluster another case's absorbed is flagged as long as its campaign is, and is not
    cleared while the campaign runs. Call it before the cases are cleared."""
    groups: dict[str, set[str]] = {}
    latest: dict[str, float] = {}
    for item in updates:
        if item.campaign_id is None:
            continue
        groups.setdefault(item.campaign_id, set()).update(item.campaign_cases)
        if item.score >= threshold:
            latest[item.campaign_id] = max(latest.get(item.campaign_id, 0.0), item.event_time)
    for campaign_id, cases in sorted(groups.items()):
        members = sorted(cases)
        conn.execute(
            update(CaseRow).where(CaseRow.case_id.in_(members)).values(campaign_id=campaign_id)
        )
        stored = conn.execute(
            select(func.max(CaseRow.last_flagged_at)).where(CaseRow.case_id.in_(members))
        ).scalar_one()
        flagged = [aware(stored).timestamp()] if stored is not None else []
        if campaign_id in latest:
            flagged.append(latest[campaign_id])
        if flagged:
            at = datetime.fromtimestamp(max(flagged), UTC)
            conn.execute(
                update(CaseRow)
                .where(CaseRow.case_id.in_(members), CaseRow.last_flagged_at < at)
                .values(last_flagged_at=at)
            )


def campaign_cases(conn: Connection, *, campaign_id: str) -> list[str]:
    """The ids of the cases of one campaign, in id order."""
    return list(
        conn.execute(
            select(CaseRow.case_id)
            .where(CaseRow.campaign_id == campaign_id)
            .order_by(CaseRow.case_id)
        ).scalars()
    )
