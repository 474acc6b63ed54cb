"""``POST /v1/records`` and ``POST /v1/accounts`` (CONTRACT.md §1–2)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized, State, read_body
from detector.api.responses import JSONBytes
from detector.ingest.body import media_of
from detector.observability.metrics import count_batch

router = APIRouter(prefix="/v1", dependencies=[Authorized])


@router.post("/records", response_class=JSONBytes)
async def post_records(request: Request, state: State) -> JSONBytes:
    """Accept a batch of log records; answers only once accepted ones are durable."""
    media = media_of(request.headers.get("content-type"))
    body = await read_body(request, state.settings.max_body_bytes)
    encoding = request.headers.get("content-encoding")
    if state.pool is not None:
        result = await state.pool.records(body, media, encoding)
    else:
        result = await run_in_threadpool(state.ingestor.records, body, media, encoding)
    count_batch("records", result)
    return JSONBytes(result.as_dict())


@router.post("/accounts", response_class=JSONBytes)
async def post_accounts(request: Request, state: State) -> JSONBytes:
    """Upsert accounts by ``account_id``."""
    media = media_of(request.headers.get("content-type"))
    body = await read_body(request, state.settings.max_body_bytes)
    encoding = request.headers.get("content-encoding")
    if state.pool is not None:
        result = await state.pool.accounts(body, media, encoding)
    else:
        result = await run_in_threadpool(state.ingestor.accounts, body, media, encoding)
    count_batch("accounts", result)
    return JSONBytes(result.as_dict())
