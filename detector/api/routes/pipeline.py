"""``GET /v1/pipeline`` and ``POST /v1/pipeline/flush`` (CONTRACT.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool

from detector.api.deps import Authorized
from detector.api.pipeline_process import FlushRefused, PipelineProcess, PipelineStopped
from detector.pipeline.runner import PipelineRunner
from detector.store.event_log import LogTotals

router = APIRouter(prefix="/v1", dependencies=[Authorized])


def get_runner(request: Request) -> PipelineRunner:
    runner: PipelineRunner = request.app.state.pipeline
    return runner


Runner = Annotated[PipelineRunner, Depends(get_runner)]


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC).isoformat()


def _worker(worker: dict[str, Any] | None) -> dict[str, Any] | None:
    """The lease holder; ``expires_at`` stays epoch seconds for the clients that read
    it, and ``expires`` says the same in RFC 3339, as every other time here."""
    if worker is None:
        return None
    expires = worker.get("expires_at")
    return {**worker, "expires": _iso(float(expires)) if expires is not None else None}


def pipeline_view(status: dict[str, Any]) -> dict[str, object]:
    log: LogTotals = status["log"]
    processed = int(status["processed"])
    quarantined = int(status["quarantined"])
    return {
        "received": log.received,
        "processed": processed,
        "pending": log.received - processed - quarantined,
        "quarantined": quarantined,
        "watermark": _iso(status["watermark"]),
        "latest_event": _iso(log.latest_event),
        "late": status["late"],
        "windows_closed": status["windows_closed"],
        "worker": _worker(status["worker"]),
        "duplicates": log.duplicates,
        "rejected": log.rejected,
        "segments": log.segments,
        "stored_bytes": log.stored_bytes,
    }


@router.get("/pipeline")
async def get_pipeline(runner: Runner) -> dict[str, object]:
    return pipeline_view(await run_in_threadpool(runner.status))


@router.post("/pipeline/flush")
async def flush_pipeline(request: Request, runner: Runner) -> dict[str, object]:
    """Process everything received so far and close every window up to the latest
    event time seen; answers with the state after it. The server's own pipeline
    process does it when there is one, else this process, unless a ``detector
    worker`` holds the lease."""
    embedded: PipelineProcess | None = request.app.state.embedded_pipeline

    def flush() -> dict[str, Any]:
        if embedded is not None:
            try:
                embedded.flush()
            except FlushRefused as exc:
                raise HTTPException(status_code=409, detail=str(exc)) from None
            except PipelineStopped as exc:
                raise HTTPException(
                    status_code=503, detail=f"{exc}; retry", headers={"Retry-After": "5"}
                ) from None
            return runner.status()
        if not runner.try_lease():
            holder = runner.status()["worker"]
            raise HTTPException(
                status_code=409,
                detail=f"the pipeline runs in another process ({holder}); flush it there",
            )
        runner.run_until_idle(flush=True)
        return runner.status()

    return pipeline_view(await run_in_threadpool(flush))
