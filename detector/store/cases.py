"""Cases and the pipeline's progress in the store. Functions never commit: the caller
owns the unit of work, so a checkpoint (state, processed segments, case updates) is
one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, exists, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from detector.pipeline.cases import CaseUpdate
from detector.store.models import Segment
from detector.store.pipeline_models import (
    CaseAccountRow,
    CaseRow,
    DecisionRow,
    PipelineLeaseRow,
    PipelineStateRow,
    ProcessedSegmentRow,
)

STATE_NAME = "main"


def _time(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _insert(conn: Connection, table: Any) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


# -- segments ------------------------------------------------------------------------


def unprocessed_segments(
    conn: Connection, *, after_id: int = 0, limit: int
) -> list[tuple[int, int, bytes]]:
    """Up to ``limit`` segments past ``after_id`` with records not yet processed, in id
    order, as (id, record count, compressed payload)."""
    done = exists().where(ProcessedSegmentRow.segment_id == Segment.id)
    rows = conn.execute(
        select(Segment.id, Segment.record_count, Segment.payload)
        .where(Segment.id > after_id, Segment.payload.is_not(None), ~done)
        .order_by(Segment.id)
        .limit(limit)
    ).all()
    return [(int(i), int(n), bytes(p)) for i, n, p in rows if p is not None]


def mark_processed(conn: Connection, *, segments: Sequence[tuple[int, int, int]]) -> None:
    """Record (segment id, records, late records) as folded into the pipeline state."""
    if not segments:
        return
    now = datetime.now(UTC)
    conn.execute(
        insert(ProcessedSegmentRow),
        [
            {"segment_id": s, "record_count": n, "late_count": late, "processed_at": now}
            for s, n, late in segments
        ],
    )


# -- state ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredState:
    version: int
    watermark: float | None
    max_event: float | None
    processed: int
    late: int
    windows_closed: int
    decisions_seen: int
    state: bytes | None


def load_state(conn: Connection) -> StoredState | None:
    row = (
        Session(bind=conn)
        .scalars(select(PipelineStateRow).where(PipelineStateRow.name == STATE_NAME))
        .one_or_none()
    )
    if row is None:
        return None
    return StoredState(
        version=row.version,
        watermark=row.watermark,
        max_event=row.max_event,
        processed=row.processed,
        late=row.late,
        windows_closed=row.windows_closed,
        decisions_seen=row.decisions_seen,
        state=row.state,
    )


def save_state(conn: Connection, *, state: StoredState) -> None:
    values = {
        "version": state.version,
        "watermark": state.watermark,
        "max_event": state.max_event,
        "processed": state.processed,
        "late": state.late,
        "windows_closed": state.windows_closed,
        "decisions_seen": state.decisions_seen,
        "state": state.state,
        "updated_at": datetime.now(UTC),
    }
    stmt = _insert(conn, PipelineStateRow).values(name=STATE_NAME, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))


def processed_records(conn: Connection) -> tuple[int, int]:
    """(records, late records) of the segments marked processed."""
    row = conn.execute(
        select(
            func.coalesce(func.sum(ProcessedSegmentRow.record_count), 0),
            func.coalesce(func.sum(ProcessedSegmentRow.late_count), 0),
        )
    ).one()
    return int(row[0]), int(row[1])


# -- lease ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lease:
    """The outcome of ``take_lease``: whether ``holder`` holds the lease now, and
    whether it held it last too (no other holder took it in between, even if it
    lapsed), in which case no other worker can have checkpointed since."""

    held: bool
    continued: bool


def take_lease(conn: Connection, *, holder: str, now: float, ttl: float) -> Lease:
    """Take or renew the worker lease; not held when another holder's lease is live."""
    before = conn.execute(
        select(PipelineLeaseRow.holder).where(PipelineLeaseRow.name == STATE_NAME)
    ).scalar_one_or_none()
    stmt = _insert(conn, PipelineLeaseRow).values(
        name=STATE_NAME, holder=holder, expires_at=now + ttl
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": now + ttl},
        where=(PipelineLeaseRow.holder == holder) | (PipelineLeaseRow.expires_at < now),
    )
    conn.execute(stmt)
    current = conn.execute(
        select(PipelineLeaseRow.holder).where(PipelineLeaseRow.name == STATE_NAME)
    ).scalar_one()
    held = current == holder
    return Lease(held=held, continued=held and before == holder)


def lease_holder(conn: Connection) -> dict[str, object] | None:
    """The current lease: its holder and when it expires (epoch seconds)."""
    row = conn.execute(
        select(PipelineLeaseRow.holder, PipelineLeaseRow.expires_at).where(
            PipelineLeaseRow.name == STATE_NAME
        )
    ).one_or_none()
    return None if row is None else {"holder": row[0], "expires_at": row[1]}


def release_lease(conn: Connection, *, holder: str) -> None:
    conn.execute(
        update(PipelineLeaseRow)
        .where(PipelineLeaseRow.name == STATE_NAME, PipelineLeaseRow.holder == holder)
        .values(expires_at=0.0)
    )


# -- cases ---------------------------------------------------------------------------


def write_case_updates(conn: Connection, *, updates: Iterable[CaseUpdate]) -> int:
    """Insert new cases and update known ones (a reviewer's status stands); add the
    accounts that joined and refresh every account's record count. Returns cases written."""
    latest: dict[str, CaseUpdate] = {}
    joined: dict[str, dict[str, float]] = {}
    for item in updates:
        latest[item.case_id] = item
        for account in item.new_accounts:
            joined.setdefault(item.case_id, {}).setdefault(account, item.event_time)
    now = datetime.now(UTC)
    for item in latest.values():
        if not item.settled:
            # Its evidence would be written empty over the case's last evidence.
            raise ValueError(f"case {item.case_id}: update written before the engine settled")
        values = {
            "cluster_id": item.cluster_id,
            "score": round(min(1.0, max(0.0, item.score)), 6),
            "peak_score": round(min(1.0, max(0.0, item.peak_score)), 6),
            "last_event_at": _time(item.event_time),
            "updated_at": now,
            "account_count": item.account_count,
            "record_count": item.record_count,
            "capability_mix": item.capability_mix,
            "reasons": item.reasons,
            "features": item.features,
            "shared": item.shared,
            "timeline": item.timeline,
            "signatures": item.signatures,
            "contributions": item.contributions,
        }
        opened_at = _time(item.opened_at)
        # A case opens when its cluster crosses the threshold: flagged then, at least
        # (``clear_quiet_cases`` moves it on).
        stmt = _insert(conn, CaseRow).values(
            case_id=item.case_id,
            status="open",
            opened_at=opened_at,
            last_flagged_at=opened_at,
            queued_at=now,
            **values,
        )
        conn.execute(stmt.on_conflict_do_update(index_elements=["case_id"], set_=values))
        new = joined.get(item.case_id, {})
        if new:
            conn.execute(
                _insert(conn, CaseAccountRow).on_conflict_do_nothing(),
                [
                    {
                        "case_id": item.case_id,
                        "account_id": account,
                        "joined_at": _time(at),
                        "record_count": item.account_records.get(account, 0),
                    }
                    for account, at in new.items()
                ],
            )
        _refresh_counts(conn, item)
    return len(latest)


def _refresh_counts(conn: Connection, item: CaseUpdate) -> None:
    if not item.account_records:
        return
    stmt = (
        update(CaseAccountRow)
        .where(
            and_(
                CaseAccountRow.case_id == bindparam("cid"),
                CaseAccountRow.account_id == bindparam("aid"),
            )
        )
        .values(record_count=bindparam("n"))
    )
    conn.execute(
        stmt,
        [{"cid": item.case_id, "aid": a, "n": n} for a, n in item.account_records.items()],
    )
    if item.account_last_seen:
        seen = (
            update(CaseAccountRow)
            .where(
                and_(
                    CaseAccountRow.case_id == bindparam("cid"),
                    CaseAccountRow.account_id == bindparam("aid"),
                )
            )
            .values(last_seen_at=bindparam("at"))
        )
        conn.execute(
            seen,
            [
                {"cid": item.case_id, "aid": a, "at": _time(t)}
                for a, t in item.account_last_seen.items()
            ],
        )


def case_summaries(
    conn: Connection,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
    campaign: str | None = None,
) -> list[CaseRow]:
    """Cases in id order (ids grow with the event time they opened at); ``cursor`` is
    the last case id of the previous page; ``campaign`` keeps one campaign's cases."""
    query = select(CaseRow)
    if status is not None:
        query = query.where(CaseRow.status == status)
    if campaign is not None:
        query = query.where(CaseRow.campaign_id == campaign)
    if cursor is not None:
        query = query.where(CaseRow.case_id > cursor)
    session = Session(bind=conn, expire_on_commit=False)
    return list(session.scalars(query.order_by(CaseRow.case_id).limit(limit)))


def case_detail(conn: Connection, *, case_id: str) -> tuple[CaseRow, list[str]] | None:
    row = (
        Session(bind=conn).scalars(select(CaseRow).where(CaseRow.case_id == case_id)).one_or_none()
    )
    if row is None:
        return None
    accounts = conn.execute(
        select(CaseAccountRow.account_id)
        .where(CaseAccountRow.case_id == case_id)
        .order_by(CaseAccountRow.account_id)
    ).scalars()
    return row, list(accounts)


def decisions_after(conn: Connection, *, after_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    """Decisions newer than ``after_id`` as (id, action, the case's features)."""
    rows = conn.execute(
        select(DecisionRow.id, DecisionRow.action, CaseRow.features)
        .join(CaseRow, CaseRow.case_id == DecisionRow.case_id)
        .where(DecisionRow.id > after_id)
        .order_by(DecisionRow.id)
    ).all()
    return [(int(i), str(a), dict(f)) for i, a, f in rows]
