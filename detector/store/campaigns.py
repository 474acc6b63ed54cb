"""Campaigns in the store: the cases one operation opened apart, grouped under the
oldest of them. The engine groups them (``pipeline.cases.Campaigns``); the store
writes the group on every case of it, since a case whose cluster was absorbed by
another's gets no update of its own any more. Functions never commit."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, select, update

from detector.pipeline.cases import CaseUpdate
from detector.store.pipeline_models import CaseRow


def link_campaigns(conn: Connection, *, updates: Iterable[CaseUpdate]) -> None:
    """Set ``campaign_id`` on every case of every campaign that ``updates`` name."""
    groups: dict[str, set[str]] = {}
    for item in updates:
        if item.campaign_id is not None:
            groups.setdefault(item.campaign_id, set()).update(item.campaign_cases)
    for campaign_id, cases in sorted(groups.items()):
        conn.execute(
            update(CaseRow)
            .where(CaseRow.case_id.in_(sorted(cases)))
            .values(campaign_id=campaign_id)
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
