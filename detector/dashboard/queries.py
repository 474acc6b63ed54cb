"""What the dashboard's pages read from the store: the queue and one case's evidence.

Reads only; every query is bounded by a page size or aggregates in the database, so
a 20,000-account case or a 10,000-case queue costs a few indexed scans, not a load of
every row into templates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select

from detector.store.models import AccountRow
from detector.store.pipeline_models import CaseAccountRow, CaseRow, DecisionRow
from detector.store.review_models import AuditRow, CaseViewRow, SnoozeRow

# Core selects of whole rows: these functions run on a Connection, not an ORM Session.
CASES = CaseRow.__table__

SORTS: dict[str, tuple[Any, ...]] = {
    "score": (CaseRow.score.desc(), CaseRow.case_id),
    "opened": (CaseRow.opened_at.desc(), CaseRow.case_id),
    "size": (CaseRow.account_count.desc(), CaseRow.case_id),
}
STATUSES = ("open", "in_review", "snoozed", "closed")


@dataclass(frozen=True, slots=True)
class QueueItem:
    case_id: str
    status: str
    score: float
    opened_at: datetime
    updated_at: datetime
    account_count: int
    record_count: int
    main_capability: str | None
    capability_share: float
    reasons: list[str]
    # "new" (never opened by this reviewer), "changed" (updated since) or "".
    change: str
    regressed: bool


@dataclass(slots=True)
class Queue:
    items: list[QueueItem]
    total: int
    status_counts: dict[str, int]
    capability_counts: dict[str, int]
    page: int
    pages: int
    new_count: int = 0
    changed_count: int = 0


def main_capability(mix: dict[str, Any] | None) -> tuple[str | None, float]:
    """The capability with the largest share of a case's records, and that share."""
    if not mix:
        return None, 0.0
    name = max(mix, key=lambda key: float(mix[key]))
    return name, float(mix[name])


def queue(
    conn: Connection,
    *,
    reviewer_id: int,
    status: str = "open",
    capability: str | None = None,
    sort: str = "score",
    page: int = 1,
    per_page: int = 50,
) -> Queue:
    counts = dict.fromkeys(STATUSES, 0)
    for name, count in conn.execute(select(CaseRow.status, func.count()).group_by(CaseRow.status)):
        counts[name] = int(count)
    where = [] if status == "all" else [CaseRow.status == status]
    # Capability filtering needs each case's mix (JSON); only ids, mixes and the sort
    # key are read for the whole status, the rest only for the page shown.
    rows = conn.execute(
        select(CaseRow.case_id, CaseRow.capability_mix).where(*where).order_by(*SORTS[sort])
    ).all()
    capabilities: Counter[str] = Counter()
    chosen: list[str] = []
    for case_id, mix in rows:
        main, _ = main_capability(mix)
        if main is not None:
            capabilities[main] += 1
        if capability is None or main == capability:
            chosen.append(case_id)
    pages = max(1, -(-len(chosen) // per_page))
    page = min(max(page, 1), pages)
    shown = chosen[(page - 1) * per_page : page * per_page]
    items = _items(conn, reviewer_id=reviewer_id, case_ids=shown)
    result = Queue(
        items=items,
        total=len(chosen),
        status_counts=counts,
        capability_counts=dict(capabilities.most_common()),
        page=page,
        pages=pages,
    )
    result.new_count, result.changed_count = _changes(conn, reviewer_id=reviewer_id, where=where)
    return result


def _items(conn: Connection, *, reviewer_id: int, case_ids: list[str]) -> list[QueueItem]:
    if not case_ids:
        return []
    viewed = dict(
        conn.execute(
            select(CaseViewRow.case_id, CaseViewRow.viewed_at).where(
                CaseViewRow.reviewer_id == reviewer_id, CaseViewRow.case_id.in_(case_ids)
            )
        ).all()
    )
    regressed = regressed_cases(conn, case_ids=case_ids)
    by_id = {
        row.case_id: row for row in conn.execute(select(CASES).where(CaseRow.case_id.in_(case_ids)))
    }
    items = []
    for case_id in case_ids:
        row = by_id[case_id]
        seen = viewed.get(case_id)
        change = (
            "new" if seen is None else ("changed" if aware(row.updated_at) > aware(seen) else "")
        )
        name, share = main_capability(row.capability_mix)
        items.append(
            QueueItem(
                case_id=row.case_id,
                status=row.status,
                score=row.score,
                opened_at=aware(row.opened_at),
                updated_at=aware(row.updated_at),
                account_count=row.account_count,
                record_count=row.record_count,
                main_capability=name,
                capability_share=share,
                reasons=list(row.reasons or [])[:2],
                change=change,
                regressed=case_id in regressed,
            )
        )
    return items


def _changes(conn: Connection, *, reviewer_id: int, where: list[Any]) -> tuple[int, int]:
    """How many cases in the view this reviewer never opened, and how many changed since."""
    joined = (
        select(CaseRow.updated_at, CaseViewRow.viewed_at)
        .outerjoin(
            CaseViewRow,
            (CaseViewRow.case_id == CaseRow.case_id) & (CaseViewRow.reviewer_id == reviewer_id),
        )
        .where(*where)
        .subquery()
    )
    new = conn.execute(
        select(func.count()).select_from(joined).where(joined.c.viewed_at.is_(None))
    ).scalar_one()
    changed = conn.execute(
        select(func.count())
        .select_from(joined)
        .where(joined.c.viewed_at.is_not(None), joined.c.updated_at > joined.c.viewed_at)
    ).scalar_one()
    return int(new), int(changed)


def regressed_cases(conn: Connection, *, case_ids: list[str]) -> set[str]:
    """Of these cases, those whose latest audit event is a regression (reopened by the
    system because it came back after a closing decision), not yet decided again."""
    latest = (
        select(AuditRow.case_id, func.max(AuditRow.id).label("last"))
        .where(AuditRow.case_id.in_(case_ids))
        .group_by(AuditRow.case_id)
        .subquery()
    )
    rows = conn.execute(
        select(AuditRow.case_id)
        .join(latest, AuditRow.id == latest.c.last)
        .where(AuditRow.action == "regressed")
    ).scalars()
    return {case_id for case_id in rows if case_id is not None}


# --- one case -----------------------------------------------------------------------


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
    signups: list[datetime]
    related: list[tuple[str, str, int, float]]
    decisions: list[Row[Any]] = field(default_factory=list)
    snooze: Row[Any] | None = None
    regressed: bool = False


def case_detail(
    conn: Connection, *, case_id: str, search: str = "", page: int = 1, per_page: int = 100
) -> CaseDetail | None:
    case = conn.execute(select(CASES).where(CaseRow.case_id == case_id)).first()
    if case is None:
        return None
    member = CaseAccountRow.case_id == case_id
    filters = [member]
    if search:
        # A literal substring: autoescape makes '%' and '_' match themselves.
        filters.append(CaseAccountRow.account_id.contains(search, autoescape=True))
    matches = conn.execute(
        select(func.count()).select_from(CaseAccountRow).where(*filters)
    ).scalar_one()
    pages = max(1, -(-int(matches) // per_page))
    page = min(max(page, 1), pages)
    rows = conn.execute(
        select(
            CaseAccountRow.account_id,
            CaseAccountRow.joined_at,
            CaseAccountRow.record_count,
            AccountRow.created_at,
            AccountRow.program,
            AccountRow.country,
            AccountRow.email_domain,
        )
        .outerjoin(AccountRow, AccountRow.account_id == CaseAccountRow.account_id)
        .where(*filters)
        .order_by(CaseAccountRow.record_count.desc(), CaseAccountRow.account_id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    accounts = [
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
    in_case = (
        select(AccountRow.program, AccountRow.created_at)
        .join(CaseAccountRow, CaseAccountRow.account_id == AccountRow.account_id)
        .where(member)
        .subquery()
    )
    programs = {
        (name or "unknown"): int(count)
        for name, count in conn.execute(
            select(in_case.c.program, func.count())
            .group_by(in_case.c.program)
            .order_by(func.count().desc())
        )
    }
    signups = [aware(moment) for moment in conn.execute(select(in_case.c.created_at)).scalars()]
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
        account_matches=int(matches),
        account_page=page,
        account_pages=pages,
        programs=programs,
        signups=signups,
        related=related_cases(conn, case=case),
        decisions=decisions,
        snooze=snooze,
        regressed=bool(regressed_cases(conn, case_ids=[case_id])),
    )


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


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they hold UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
