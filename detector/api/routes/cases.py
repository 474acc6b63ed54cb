"""``GET /v1/cases`` and ``GET /v1/cases/{case_id}`` (CONTRACT.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized, State
from detector.store.cases import case_detail, case_summaries
from detector.store.pipeline_models import CASE_STATUSES, CaseRow

router = APIRouter(prefix="/v1", dependencies=[Authorized])


def _iso(value: datetime) -> str:
    # SQLite returns naive datetimes; the store only ever writes UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def summary(row: CaseRow) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        "cluster_id": row.cluster_id,
        "status": row.status,
        "score": row.score,
        "peak_score": row.peak_score,
        "opened_at": _iso(row.opened_at),
        "last_event_at": _iso(row.last_event_at),
        "updated_at": _iso(row.updated_at),
        "account_count": row.account_count,
        "record_count": row.record_count,
        "capability_mix": row.capability_mix,
        "reasons": row.reasons,
        "signatures": row.signatures,
    }


@router.get("/cases")
async def list_cases(
    state: State,
    status: Annotated[str | None, Query(description="open, in_review, snoozed or closed")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    if status is not None and status not in CASE_STATUSES:
        raise HTTPException(
            status_code=422, detail=f"status: {status!r} is not one of {', '.join(CASE_STATUSES)}"
        )

    def read() -> list[CaseRow]:
        with state.engine.connect() as conn:
            return case_summaries(conn, status=status, limit=limit + 1, cursor=cursor)

    rows = await run_in_threadpool(read)
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "items": [summary(row) for row in page],
        "next_cursor": page[-1].case_id if more and page else None,
    }


@router.get("/cases/{case_id}")
async def get_case(state: State, case_id: str) -> dict[str, Any]:
    def read() -> tuple[CaseRow, list[str]] | None:
        with state.engine.connect() as conn:
            return case_detail(conn, case_id=case_id)

    found = await run_in_threadpool(read)
    if found is None:
        raise HTTPException(status_code=404, detail=f"case_id: no case {case_id!r}")
    row, accounts = found
    return {
        **summary(row),
        "account_ids": accounts,
        "features": row.features,
        "shared": row.shared,
        "timeline": row.timeline,
    }
