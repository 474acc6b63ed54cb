"""What the network, shared-value and account pages read: sign-up hours a case's
accounts share, which accounts stand blocked, every case that shares a value, and one
account across its cases.

Reads only. The per-value account lists come from the case's ``shared`` JSON, where
the pipeline keeps up to fifty accounts of each value inside and outside the case
(``pipeline.cases.shared_by_case``), so no page walks the event log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Text, cast, exists, func, select

from detector.dashboard.network import Tie
from detector.store.models import AccountRow
from detector.store.outcomes import outcomes
from detector.store.pipeline_models import CaseAccountRow, CaseRow, DecisionRow
from detector.store.reviews import aware


def signup_groups(
    conn: Connection, *, case_id: str, top: int = 5, listed: int = 50
) -> list[tuple[str, list[str], int, int]]:
    """The ``top`` sign-up hours most of the case's accounts share: (hour, up to
    ``listed`` accounts, how many of the case signed up in it, how many of all).

    One grouped pass over the case's accounts finds the hours; the accounts and the
    platform's counts are then read by ranges of the indexed ``created_at``."""
    created = AccountRow.created_at
    if conn.dialect.name == "postgresql":
        hour: Any = func.to_char(func.timezone("UTC", created), "YYYY-MM-DD HH24:00")
    else:
        hour = func.substr(created, 1, 13).concat(":00")
    busiest = conn.execute(
        select(hour, func.count())
        .join(CaseAccountRow, CaseAccountRow.account_id == AccountRow.account_id)
        .where(CaseAccountRow.case_id == case_id)
        .group_by(hour)
        .having(func.count() >= 3)
        .order_by(func.count().desc(), hour)
        .limit(top)
    ).all()
    groups = []
    for label, count in busiest:
        start = datetime.strptime(label, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        within = (created >= start, created < start + timedelta(hours=1))
        # The hour's sign-ups by the index, each checked against the case's key.
        member = exists().where(
            CaseAccountRow.case_id == case_id,
            CaseAccountRow.account_id == AccountRow.account_id,
        )
        accounts = conn.execute(
            select(AccountRow.account_id)
            .where(*within, member)
            .order_by(AccountRow.account_id)
            .limit(listed)
        ).scalars()
        everyone = conn.execute(
            select(func.count()).select_from(AccountRow).where(*within)
        ).scalar_one()
        groups.append((f"{label} UTC", list(accounts), int(count), int(everyone)))
    return groups


def blocked_among(conn: Connection, *, account_ids: list[str]) -> dict[str, str]:
    """Of these accounts, those on the blocklist: account → the blocking case."""
    if not account_ids:
        return {}
    latest = (
        select(DecisionRow.case_id, func.max(DecisionRow.id).label("last"))
        .group_by(DecisionRow.case_id)
        .subquery()
    )
    blocking = (
        select(DecisionRow.case_id)
        .join(latest, DecisionRow.id == latest.c.last)
        .where(DecisionRow.action == "block")
    )
    rows = conn.execute(
        select(CaseAccountRow.account_id, CaseAccountRow.case_id).where(
            CaseAccountRow.account_id.in_(account_ids[:1000]),
            CaseAccountRow.case_id.in_(blocking),
        )
    ).all()
    return {account: case_id for account, case_id in rows}


@dataclass(frozen=True, slots=True)
class Sharing:
    case_id: str
    status: str
    outcome: str | None
    tie: Tie


def cases_sharing(conn: Connection, *, kind: str, value: str, limit: int = 200) -> list[Sharing]:
    """Every case whose shared infrastructure lists ``value`` under ``kind``, the
    most accounts first. The JSON is matched as text first, then read exactly."""
    # The JSON columns hold json.dumps text: quotes and non-ASCII are escaped there.
    written = json.dumps(value)[1:-1]
    rows = conn.execute(
        select(CaseRow.case_id, CaseRow.status, CaseRow.shared)
        .where(cast(CaseRow.shared, Text).contains(written, autoescape=True))
        .order_by(CaseRow.case_id)
        .limit(limit)
    ).all()
    decided = outcomes(conn, cases={case_id: status for case_id, status, _ in rows})
    found = []
    for case_id, status, shared in rows:
        for item in (shared or {}).get(kind, []):
            if item.get("value") == value:
                tie = Tie(
                    kind=kind,
                    value=value,
                    accounts=list(item.get("account_ids") or []),
                    in_case=int(item.get("accounts", 0)),
                    platform=item.get("platform_accounts"),
                    others=list(item.get("other_account_ids") or []),
                )
                found.append(Sharing(case_id, status, decided.get(case_id), tie))
    found.sort(key=lambda s: (-s.tie.in_case, s.case_id))
    return found


@dataclass(frozen=True, slots=True)
class Membership:
    case_id: str
    status: str
    outcome: str | None
    score: float
    joined_at: datetime
    record_count: int
    last_seen_at: datetime | None
    # (kind, value) of the case's shared values that list this account.
    ties: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class AccountView:
    account_id: str
    meta: dict[str, Any] | None
    cases: list[Membership]
    blocked_by: str | None
    last_seen_at: datetime | None
    record_count: int


def account_view(conn: Connection, *, account_id: str) -> AccountView | None:
    """One account: its sign-up metadata, every case holding it with the values that
    tie it in there, whether it stands blocked, and when it was last active."""
    meta_row = conn.execute(
        select(AccountRow.__table__).where(AccountRow.account_id == account_id)
    ).first()
    rows = conn.execute(
        select(
            CaseRow.case_id,
            CaseRow.status,
            CaseRow.score,
            CaseRow.shared,
            CaseAccountRow.joined_at,
            CaseAccountRow.record_count,
            CaseAccountRow.last_seen_at,
        )
        .join(CaseAccountRow, CaseAccountRow.case_id == CaseRow.case_id)
        .where(CaseAccountRow.account_id == account_id)
        .order_by(CaseRow.case_id)
    ).all()
    if meta_row is None and not rows:
        return None
    decided = outcomes(conn, cases={row[0]: row[1] for row in rows})
    cases = [
        Membership(
            case_id=case_id,
            status=status,
            outcome=decided.get(case_id),
            score=float(score),
            joined_at=aware(joined),
            record_count=int(records),
            last_seen_at=None if seen is None else aware(seen),
            ties=[
                (kind, str(item.get("value")))
                for kind, values in (shared or {}).items()
                for item in values
                if account_id in (item.get("account_ids") or [])
            ],
        )
        for case_id, status, score, shared, joined, records, seen in rows
    ]
    seen_times = [c.last_seen_at for c in cases if c.last_seen_at is not None]
    meta = None if meta_row is None else dict(meta_row._mapping)
    return AccountView(
        account_id=account_id,
        meta=meta,
        cases=cases,
        blocked_by=blocked_among(conn, account_ids=[account_id]).get(account_id),
        last_seen_at=max(seen_times) if seen_times else None,
        record_count=max((c.record_count for c in cases), default=0),
    )
