"""``GET /v1/blocklist``: accounts of blocked cases, as JSON or CSV.

CSV with ``?format=csv`` or ``Accept: text/csv``; ``since`` (RFC 3339) keeps the
blocks decided at or after that time, for incremental pulls.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from detector.api.deps import Authorized, State
from detector.api.responses import JSONBytes
from detector.enforcement.blocklist import Blocked, blocked_accounts, to_csv

router = APIRouter(prefix="/v1", dependencies=[Authorized])


@router.get("/blocklist", response_model=None)
async def get_blocklist(
    state: State,
    request: Request,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
    since: Annotated[str | None, Query()] = None,
) -> JSONBytes | StreamingResponse:
    after = _since(since)

    def read() -> list[Blocked]:
        with state.engine.connect() as conn:
            return blocked_accounts(conn, since=after)

    entries = await run_in_threadpool(read)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return StreamingResponse(
            to_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="blocklist.csv"'},
        )
    return JSONBytes({"count": len(entries), "items": [entry.as_dict() for entry in entries]})


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(
            status_code=422, detail=f"since: {value!r} is not an RFC 3339 time"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
