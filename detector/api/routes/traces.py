"""``POST /v1/traces`` (CONTRACT.md §3): OTLP/HTTP trace exports, protobuf or JSON."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized, State, bearer_token, read_body
from detector.errors import BadBatchError, PayloadTooLargeError, UnsupportedMediaError
from detector.ingest.mapped import MapContext
from detector.ingest.otlp import answer, encoding_of, error_answer
from detector.ingest.otlp_ingest import ingest_traces
from detector.observability.metrics import (
    FALLBACK_IDENTITY,
    ORPHAN_TOOL_SPANS,
    SKIPPED_SPANS,
    count_batch,
)

router = APIRouter(prefix="/v1", dependencies=[Authorized])


@router.post("/traces")
async def post_traces(request: Request, state: State) -> Response:
    """Store every GenAI span as a record; answer with OTLP's ``partialSuccess``."""
    encoding = encoding_of(request.headers.get("content-type"))
    try:
        body = await read_body(request, state.settings.max_body_bytes)
        result = await run_in_threadpool(
            ingest_traces,
            state.ingestor,
            body,
            encoding,
            request.headers.get("content-encoding"),
            MapContext.from_settings(state.settings, bearer_token(request)),
        )
    except BadBatchError as exc:
        code = 400
        if isinstance(exc, PayloadTooLargeError):
            code = 413
        elif isinstance(exc, UnsupportedMediaError):
            code = 415
        content, media = error_answer(encoding, str(exc))
        return Response(content, status_code=code, media_type=media)
    count_batch("traces", result.batch)
    ORPHAN_TOOL_SPANS.inc(result.orphan_tool_spans)
    for reason, count in result.outcome.skipped.items():
        SKIPPED_SPANS.labels(reason).inc(count)
    FALLBACK_IDENTITY.labels("traces").inc(result.outcome.fallback)
    content, media = answer(encoding, result.batch.rejected, result.error_message)
    return Response(content, media_type=media)
