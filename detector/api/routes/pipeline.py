"""``GET /v1/pipeline`` and ``POST /v1/pipeline/flush`` (CONTRACT.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized
from detector.pipeline.runner import PipelineRunner
from detector.store.event_log import LogTotals

router = APIRouter(prefix="/v1", dependencies=[Authorized])


def get_runner(request: Request) -> PipelineRunner:
    runner: PipelineRunner = request.app.state.pipeline
    return runner


Runner = Annotated[PipelineRunner, Depends(get_runner)]


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def pipeline_view(status: dict[str, Any]) -> dict[str, object]:
    log: LogTotals = status["log"]
    processed = int(status["processed"])
    return {
        "received": log.received,
        "processed": processed,
        "pending": log.received - processed,
        "watermark": _iso(status["watermark"]),
        "latest_event": _iso(log.latest_event),
        "late": status["late"],
        "windows_closed": status["windows_closed"],
        "worker": status["worker"],
        "duplicates": log.duplicates,
        "rejected": log.rejected,
        "segments": log.segments,
        "stored_bytes": log.stored_bytes,
    }


@router.get("/pipeline")
async def get_pipeline(runner: Runner) -> dict[str, object]:
    return pipeline_view(await run_in_threadpool(runner.status))


@router.post("/pipeline/flush")
async def flush_pipeline(runner: Runner) -> dict[str, object]:
    """Process everything received so far and close every window up to the latest
    event time seen; answers with the state after it."""

    def flush() -> dict[str, Any]:
        if not runner.try_lease():
            holder = runner.status()["worker"]
            raise HTTPException(
                status_code=409,
                detail=f"the pipeline runs in another process ({holder}); flush it there",
            )
        runner.run_until_idle(flush=True)
        return runner.status()

    return pipeline_view(await run_in_threadpool(flush))
