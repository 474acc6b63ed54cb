"""``POST /v1/litellm`` (CONTRACT.md §3): LiteLLM ``generic_api`` callback batches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized, State, bearer_token, read_body
from detector.api.responses import JSONBytes
from detector.ingest.litellm import ingest_litellm
from detector.ingest.mapped import MapContext
from detector.observability.metrics import count_batch

router = APIRouter(prefix="/v1", dependencies=[Authorized])


@router.post("/litellm", response_class=JSONBytes)
async def post_litellm(request: Request, state: State) -> JSONBytes:
    """Accept StandardLoggingPayloads; answers like ``/v1/records`` (index = payload)."""
    body = await read_body(request, state.settings.max_body_bytes)
    result = await run_in_threadpool(
        ingest_litellm,
        state.ingestor,
        body,
        request.headers.get("content-encoding"),
        MapContext.from_settings(state.settings, bearer_token(request)),
    )
    count_batch("litellm", result)
    return JSONBytes(result.as_dict())
