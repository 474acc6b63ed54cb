"""What the case page reads: one case, a page of its accounts, its sign-up burst and
programmes, related cases, decisions and snooze.

A case may hold 20,000 accounts, so nothing here ships one row per account to Python:
the accounts are paged in the database, sign-ups and programmes are counted there,
and the join to ``accounts`` runs once for all of those counts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, select

from detector.dashboard.queries import CASES, regressed_cases
from detector.store.models import AccountRow
from detector.store.pipeline_models import CaseAccountRow, CaseRow, DecisionRow
from detector.store.review_models import AuditRow, SnoozeRow
from detector.store.reviews import aware

# Sign-ups spread over more than this are drawn per day instead of per hour.
HOURLY_SPAN = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class AccountLine:
    account_id: str
    joined_at: datetime
    record_count: int
    created_at: datetime | None
    program: str | None
    country: str | None
    email_domain: str | None


@dataclass(slots=True)
class CaseDetail:
    case: Row[Any]
    accounts: list[AccountLine]
    account_matches: int
    account_page: int
    account_pages: int
    programs: dict[str, int]
    # Sign-ups per hour (when they all fell within three days) or per day.
    signups: list[tuple[datetime, int]]
    signups_hourly: bool
    # Every other account's sign-ups in the same span and bins: the burst's baseline.
    signups_elsewhere: list[tuple[datetime, int]]
    related: list[tuple[str, str, int, float]]
    decisions: list[Row[Any]] = field(default_factory=list)
    snooze: Row[Any] | None = None
    regressed: bool = False
    # The pipeline's audit entry of clearing the case, while it is cleared.
    cleared: Row[Any] | None = None


def case_detail(
    conn: Connection, *, case_id: str, search: str = "", page: int = 1, per_page: int = 100
) -> CaseDetail | None:
    case = conn.execute(select(CASES).where(CaseRow.case_id == case_id)).first()
    if case is None:
        return None
    accounts, matches, page, pages = account_page(
        conn, case_id=case_id, search=search, page=page, per_page=per_page
    )
    programs, signups, hourly = signup_profile(conn, case_id=case_id)
    decisions = list(
        conn.execute(
            select(DecisionRow.__table__)
            .where(DecisionRow.case_id == case_id)
            .order_by(DecisionRow.id.desc())
        )
    )
    snooze = conn.execute(select(SnoozeRow.__table__).where(SnoozeRow.case_id == case_id)).first()
    return CaseDetail(
        case=case,
        accounts=accounts,
        account_matches=matches,
        account_page=page,
        account_pages=pages,
        programs=programs,
        signups=signups,
        signups_hourly=hourly,
        signups_elsewhere=signup_baseline(conn, bins=signups, hourly=hourly),
        related=related_cases(conn, case=case),
        decisions=decisions,
        snooze=snooze,
        regressed=bool(regressed_cases(conn, case_ids=[case_id])),
        cleared=clearing(conn, case_id=case_id) if case.status == "cleared" else None,
    )


def clearing(conn: Connection, *, case_id: str) -> Row[Any] | None:
    """The latest ``clear`` entry of the case's audit trail: when and why it was cleared."""
    return conn.execute(
        select(AuditRow.__table__)
        .where(AuditRow.case_id == case_id, AuditRow.action == "clear")
        .order_by(AuditRow.id.desc())
        .limit(1)
    ).first()


def account_page(
    conn: Connection, *, case_id: str, search: str, page: int, per_page: int
) -> tuple[list[AccountLine], int, int, int]:
    """One page of the case's accounts, busiest first, and (matches, page, pages)."""
    filters = [CaseAccountRow.case_id == case_id]
    if search:
        # A literal substring: autoescape makes '%' and '_' match themselves.
        filters.append(CaseAccountRow.account_id.contains(search, autoescape=True))
    matches = int(
        conn.execute(select(func.count()).select_from(CaseAccountRow).where(*filters)).scalar_one()
    )
    pages = max(1, -(-matches // per_page))
    page = min(max(page, 1), pages)
    # Page the case's own rows first, then join account metadata for that page only.
    shown = (
        select(CaseAccountRow.account_id, CaseAccountRow.joined_at, CaseAccountRow.record_count)
        .where(*filters)
        .order_by(CaseAccountRow.record_count.desc(), CaseAccountRow.account_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery()
    )
    rows = conn.execute(
        select(
            shown.c.account_id,
            shown.c.joined_at,
            shown.c.record_count,
            AccountRow.created_at,
            AccountRow.program,
            AccountRow.country,
            AccountRow.email_domain,
        )
        .outerjoin(AccountRow, AccountRow.account_id == shown.c.account_id)
        .order_by(shown.c.record_count.desc(), shown.c.account_id)
    ).all()
    lines = [
        AccountLine(
            account_id=row[0],
            joined_at=aware(row[1]),
            record_count=int(row[2]),
            created_at=None if row[3] is None else aware(row[3]),
            program=row[4],
            country=row[5],
            email_domain=row[6],
        )
        for row in rows
    ]
    return lines, matches, page, pages


def signup_profile(
    conn: Connection, *, case_id: str
) -> tuple[dict[str, int], list[tuple[datetime, int]], bool]:
    """Accounts per programme, and sign-ups per hour (or per day past three days).

    One grouped query over (programme, hour) serves both: at most a few thousand rows
    come back for any case size.
    """
    created = AccountRow.created_at
    if conn.dialect.name == "postgresql":
        hour: Any = func.date_trunc("hour", func.timezone("UTC", created))
    else:
        # SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS' text, in UTC.
        hour = func.substr(created, 1, 13)
    rows = conn.execute(
        select(AccountRow.program, hour, func.count())
        .join(CaseAccountRow, CaseAccountRow.account_id == AccountRow.account_id)
        .where(CaseAccountRow.case_id == case_id)
        .group_by(AccountRow.program, hour)
    ).all()
    programs: Counter[str] = Counter()
    hours: Counter[datetime] = Counter()
    for program, bucket, count in rows:
        programs[program or "unknown"] += int(count)
        hours[_hour_start(bucket)] += int(count)
    if not hours:
        return dict(programs.most_common()), [], False
    hourly = max(hours) - min(hours) <= HOURLY_SPAN
    if hourly:
        return dict(programs.most_common()), sorted(hours.items()), True
    days: Counter[datetime] = Counter()
    for moment, count in hours.items():
        days[moment.replace(hour=0)] += count
    return dict(programs.most_common()), sorted(days.items()), False


def signup_baseline(
    conn: Connection, *, bins: list[tuple[datetime, int]], hourly: bool
) -> list[tuple[datetime, int]]:
    """Sign-ups of the accounts outside the case, in the bins of the case's own, over
    the span they cover: every sign-up in the span (one range scan of the indexed
    ``accounts.created_at``) less the case's own, which ``bins`` already counts."""
    if not bins:
        return []
    start = bins[0][0]
    end = bins[-1][0] + (timedelta(hours=1) if hourly else timedelta(days=1))
    created = AccountRow.created_at
    if conn.dialect.name == "postgresql":
        unit = "hour" if hourly else "day"
        bucket: Any = func.date_trunc(unit, func.timezone("UTC", created))
    else:
        bucket = func.substr(created, 1, 13 if hourly else 10)
    rows = conn.execute(
        select(bucket, func.count()).where(created >= start, created < end).group_by(bucket)
    ).all()
    out: Counter[datetime] = Counter()
    for moment, count in rows:
        if isinstance(moment, str) and not hourly:
            moment = moment + " 00"
        out[_hour_start(moment)] += int(count)
    out.subtract(dict(bins))
    return sorted((moment, count) for moment, count in out.items() if count > 0)


def _hour_start(value: datetime | str) -> datetime:
    if isinstance(value, datetime):
        return aware(value)
    return datetime.strptime(value, "%Y-%m-%d %H").replace(tzinfo=UTC)


def related_cases(
    conn: Connection, *, case: Row[Any], limit: int = 10
) -> list[tuple[str, str, int, float]]:
    """Other cases sharing accounts with this one, or its cluster: (id, status, shared
    accounts, score), most overlap first."""
    other = CaseAccountRow.__table__.alias("other")
    mine = CaseAccountRow.__table__.alias("mine")
    overlap = conn.execute(
        select(other.c.case_id, func.count())
        .join(mine, mine.c.account_id == other.c.account_id)
        .where(mine.c.case_id == case.case_id, other.c.case_id != case.case_id)
        .group_by(other.c.case_id)
        .order_by(func.count().desc())
        .limit(limit)
    ).all()
    shared = {case_id: int(count) for case_id, count in overlap}
    same_cluster = conn.execute(
        select(CaseRow.case_id)
        .where(CaseRow.cluster_id == case.cluster_id, CaseRow.case_id != case.case_id)
        .limit(limit)
    ).scalars()
    for case_id in same_cluster:
        shared.setdefault(case_id, 0)
    if not shared:
        return []
    info = {
        row[0]: (row[1], float(row[2]))
        for row in conn.execute(
            select(CaseRow.case_id, CaseRow.status, CaseRow.score).where(
                CaseRow.case_id.in_(list(shared))
            )
        )
    }
    related = [(cid, info[cid][0], count, info[cid][1]) for cid, count in shared.items()]
    related.sort(key=lambda item: (-item[2], -item[3]))
    return related[:limit]
