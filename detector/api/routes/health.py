"""``/healthz`` (the process answers) and ``/readyz`` (store reachable, schema at head,
pipeline not stalled)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from detector.api.deps import State
from detector.api.responses import JSONBytes
from detector.store.migrate import current_revision, head_revision
from detector.store.quarantine import Progress, progress

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _pipeline(engine: Engine, stall_seconds: float) -> Progress:
    with engine.connect() as conn:
        return progress(conn, stall_seconds=stall_seconds)


@router.get("/readyz")
async def readyz(state: State) -> JSONBytes:
    head = head_revision()
    try:
        current = await run_in_threadpool(current_revision, state.engine)
    except SQLAlchemyError as exc:
        return JSONBytes(
            {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    if current != head:
        return JSONBytes(
            {
                "status": "unavailable",
                "database": f"schema at {current}, expected {head}: run 'detector db upgrade'",
            },
            status_code=503,
        )
    try:
        pipeline = await run_in_threadpool(
            _pipeline, state.engine, state.settings.pipeline_stall_seconds
        )
    except SQLAlchemyError as exc:
        return JSONBytes(
            {"status": "unavailable", "database": f"unreachable: {type(exc).__name__}"},
            status_code=503,
        )
    if pipeline.stalled:
        return JSONBytes(
            {
                "status": "unavailable",
                "database": "ok",
                "schema": current,
                "pipeline": f"stalled: {pipeline.reason()}",
            },
            status_code=503,
        )
    behind = (
        f"behind: {pipeline.backlog_records} records in {pipeline.backlog_segments} "
        f"segments, oldest received {pipeline.backlog_seconds:.0f} s ago"
        if pipeline.backlog_segments
        else "ok"
    )
    return JSONBytes({"status": "ok", "database": "ok", "schema": current, "pipeline": behind})
