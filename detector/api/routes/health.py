"""``/healthz`` (the process answers) and ``/readyz`` (store reachable, schema at head)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from detector.api.deps import State
from detector.api.responses import JSONBytes
from detector.store.migrate import current_revision, head_revision

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


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
    return JSONBytes({"status": "ok", "database": "ok", "schema": current})
