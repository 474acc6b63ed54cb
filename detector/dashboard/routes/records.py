"""The blocklist and the audit log as pages, and the blocklist as CSV for a signed-in
reviewer (tools use ``GET /v1/blocklist`` with a token)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from detector.api.deps import State
from detector.dashboard.auth import SignedIn
from detector.dashboard.web import SECURITY_HEADERS, render
from detector.enforcement.blocklist import blocked_accounts, to_csv
from detector.store.reviews import audit_trail

router = APIRouter(prefix="/dashboard")

PAGE = 500


@router.get("/blocklist")
def blocklist_page(
    state: State, signed: SignedIn, page: Annotated[int, Query(ge=1)] = 1
) -> Response:
    with state.engine.connect() as conn:
        entries = blocked_accounts(conn)
    pages = max(1, -(-len(entries) // PAGE))
    page = min(page, pages)
    return render(
        "blocklist.html",
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        entries=entries[(page - 1) * PAGE : page * PAGE],
        total=len(entries),
        cases=len({entry.case_id for entry in entries}),
        page=page,
        pages=pages,
    )


@router.get("/blocklist.csv")
def blocklist_csv(state: State, signed: SignedIn) -> Response:
    with state.engine.connect() as conn:
        entries = blocked_accounts(conn)
    return StreamingResponse(
        to_csv(entries),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="blocklist.csv"'},
    )


@router.get("/audit")
def audit_page(
    state: State, signed: SignedIn, before: Annotated[int | None, Query(ge=1)] = None
) -> Response:
    with state.engine.connect() as conn:
        entries = audit_trail(conn, limit=100, before_id=before)
    return render(
        "audit.html",
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        entries=entries,
        older=entries[-1].id if len(entries) == 100 else None,
    )
