"""``GET /v1/pipeline`` (CONTRACT.md §4): what has been received and processed."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized, State
from detector.store.event_log import LogTotals, totals

router = APIRouter(prefix="/v1", dependencies=[Authorized])


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def pipeline_view(log: LogTotals, processed: int) -> dict[str, object]:
    return {
        "received": log.received,
        "processed": processed,
        "pending": log.received - processed,
        "watermark": _iso(log.latest_event),
        "duplicates": log.duplicates,
        "rejected": log.rejected,
        "segments": log.segments,
        "stored_bytes": log.stored_bytes,
    }


@router.get("/pipeline")
async def get_pipeline(state: State) -> dict[str, object]:
    def read() -> LogTotals:
        with state.engine.connect() as conn:
            return totals(conn)

    log = await run_in_threadpool(read)
    return pipeline_view(log, processed=0)
