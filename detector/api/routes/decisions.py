"""``POST /v1/cases/{case_id}/decisions`` (CONTRACT.md §5), for tools and scripts.

The dashboard's forms record decisions through the same ``store.reviews.decide``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from detector.api.deps import Authorized, State
from detector.api.routes.cases import storable
from detector.errors import NotFoundError
from detector.store.db import write_transaction
from detector.store.outcomes import OUTCOME_OF, decisions_of
from detector.store.reviews import Decided, decide

router = APIRouter(prefix="/v1", dependencies=[Authorized])


class DecisionIn(BaseModel):
    action: Literal["accept", "watch", "block", "escalate"]
    note: Annotated[str, Field(max_length=10_000)] = ""
    # Who decided, as the calling tool knows them; recorded in the audit log.
    actor: Annotated[str, Field(min_length=1, max_length=256)] = "api"


@router.post("/cases/{case_id}/decisions", status_code=201)
async def post_decision(
    case_id: str, decision: DecisionIn, state: State, request: Request
) -> dict[str, object]:
    """Record a decision on a case; answers once it, its audit entry and its webhook
    delivery are committed."""
    if not storable(case_id):
        # PostgreSQL refuses a NUL in a query outright: no case id holds one.
        raise NotFoundError(f"case_id: no case {case_id!r}")

    def write() -> Decided:
        with write_transaction(state.engine) as conn:
            return decide(
                conn,
                case_id=case_id,
                action=decision.action,
                note=decision.note,
                actor=decision.actor,
                now=datetime.now(UTC),
                webhook_url=state.settings.webhook_url,
            )

    decided = await run_in_threadpool(write)
    request.app.state.webhooks.nudge()
    return {
        "decision_id": decided.decision_id,
        "case_id": decided.case_id,
        "action": decided.action,
        "status": decided.status,
        "outcome": OUTCOME_OF[decided.action],
        "note": decision.note,
        "actor": decision.actor,
        "created_at": decided.created_at.isoformat(),
    }


@router.get("/cases/{case_id}/decisions")
async def list_decisions(case_id: str, state: State) -> dict[str, object]:
    """The case's standing decisions, newest first (an undone one is gone from here
    and stays in the audit log)."""
    if not storable(case_id):
        raise NotFoundError(f"case_id: no case {case_id!r}")

    def read() -> list[dict[str, object]]:
        with state.engine.connect() as conn:
            return [line.as_dict() for line in decisions_of(conn, case_id=case_id)]

    return {"case_id": case_id, "items": await run_in_threadpool(read)}
