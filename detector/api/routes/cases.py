"""``GET /v1/cases`` and ``GET /v1/cases/{case_id}`` (CONTRACT.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized, State
from detector.store.campaigns import campaign_cases
from detector.store.cases import case_detail, case_summaries
from detector.store.outcomes import outcomes
from detector.store.pipeline_models import CASE_STATUSES, CaseRow

router = APIRouter(prefix="/v1", dependencies=[Authorized])

STATUS_FILTERS = (*CASE_STATUSES, "all")


def _iso(value: datetime) -> str:
    # SQLite returns naive datetimes; the store only ever writes UTC.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def storable(value: str) -> bool:
    """Whether ``value`` can be compared with stored text: PostgreSQL refuses a NUL
    character outright and a lone surrogate cannot be encoded to UTF-8, so neither
    can be part of a case id."""
    return "\x00" not in value and not any("\ud800" <= char <= "\udfff" for char in value)


def summary(row: CaseRow, outcome: str | None = None) -> dict[str, Any]:
    return {
        "case_id": row.case_id,
        "cluster_id": row.cluster_id,
        "status": row.status,
        "score": row.score,
        "peak_score": row.peak_score,
        "opened_at": _iso(row.opened_at),
        "last_event_at": _iso(row.last_event_at),
        "last_flagged_at": _iso(row.last_flagged_at),
        "updated_at": _iso(row.updated_at),
        "account_count": row.account_count,
        "record_count": row.record_count,
        "capability_mix": row.capability_mix,
        "reasons": row.reasons,
        "signatures": row.signatures,
        "campaign_id": row.campaign_id,
        # What was decided (store.outcomes): status alone says "closed" for a block
        # and an accept alike.
        "outcome": outcome,
    }


@router.get("/cases")
async def list_cases(
    state: State,
    status: Annotated[str | None, Query(description=", ".join(STATUS_FILTERS))] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
    campaign: Annotated[
        str | None, Query(max_length=64, description="the cases of one campaign")
    ] = None,
) -> dict[str, Any]:
    if status is not None and status not in STATUS_FILTERS:
        raise HTTPException(
            status_code=422, detail=f"status: {status!r} is not one of {', '.join(STATUS_FILTERS)}"
        )
    if cursor is not None and not storable(cursor):
        raise HTTPException(
            status_code=422,
            detail=f"cursor: {cursor!r} holds a NUL character or a lone surrogate, "
            "which no case id does",
        )
    if campaign is not None and not storable(campaign):
        raise HTTPException(
            status_code=422,
            detail=f"campaign: {campaign!r} holds a NUL character or a lone surrogate, "
            "which no case id does",
        )
    # "all" is what the dashboard's tab of every case asks for: no filter.
    wanted = None if status == "all" else status

    def read() -> tuple[list[CaseRow], dict[str, str | None]]:
        with state.engine.connect() as conn:
            rows = case_summaries(
                conn, status=wanted, limit=limit + 1, cursor=cursor, campaign=campaign
            )
            return rows, outcomes(conn, cases={row.case_id: row.status for row in rows[:limit]})

    rows, decided = await run_in_threadpool(read)
    page = rows[:limit]
    more = len(rows) > limit
    return {
        "items": [summary(row, decided.get(row.case_id)) for row in page],
        "next_cursor": page[-1].case_id if more and page else None,
    }


@router.get("/cases/{case_id}")
async def get_case(state: State, case_id: str) -> dict[str, Any]:
    if not storable(case_id):
        raise HTTPException(status_code=404, detail=f"case_id: no case {case_id!r}")

    def read() -> tuple[tuple[CaseRow, list[str]] | None, list[str], str | None]:
        with state.engine.connect() as conn:
            found = case_detail(conn, case_id=case_id)
            if found is None:
                return None, [], None
            decided = outcomes(conn, cases={case_id: found[0].status})[case_id]
            if found[0].campaign_id is None:
                return found, [], decided
            return found, campaign_cases(conn, campaign_id=found[0].campaign_id), decided

    found, campaign, decided = await run_in_threadpool(read)
    if found is None:
        raise HTTPException(status_code=404, detail=f"case_id: no case {case_id!r}")
    row, accounts = found
    return {
        **summary(row, decided),
        "contributions": row.contributions,
        "campaign_cases": campaign,
        "account_ids": accounts,
        "features": row.features,
        "shared": row.shared,
        "timeline": row.timeline,
    }
