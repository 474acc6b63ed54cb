"""The case page's forms: decide, undo, snooze, reopen, assign; and the queue's bulk
decision. Each needs the session's CSRF token and answers with a redirect
(post/redirect/get), so a reload never posts twice; a decision lands on a page whose
banner says what it changed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select

from detector.api.deps import State
from detector.dashboard.auth import Checked
from detector.dashboard.routes.signin import safe_next
from detector.dashboard.web import SECURITY_HEADERS
from detector.errors import InvalidRequestError, NotFoundError
from detector.store.db import write_transaction
from detector.store.outcomes import assign, undo
from detector.store.pipeline_models import CaseRow
from detector.store.reviews import decide, reopen, snooze

router = APIRouter(prefix="/dashboard/cases/{case_id}")
bulk = APIRouter()

# A queue page shows 50; a bulk form never carries more than a few pages' worth.
BULK_LIMIT = 200

Action = Literal["accept", "watch", "block", "escalate"]


@router.post("/decisions")
def post_decision(
    case_id: str,
    request: Request,
    state: State,
    signed: Checked,
    action: Annotated[Action, Form()],
    note: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    with write_transaction(state.engine) as conn:
        _decidable(conn, case_id)
        made = decide(
            conn,
            case_id=case_id,
            action=action,
            note=note.strip(),
            actor=signed.reviewer.username,
            now=datetime.now(UTC),
            webhook_url=state.settings.webhook_url,
        )
    request.app.state.webhooks.nudge()
    # The case page again, with a banner of what changed, undo and the next case.
    return _see(f"/dashboard/cases/{quote(case_id, safe='')}?decided={made.decision_id}")


@router.post("/undo")
def post_undo(
    case_id: str,
    request: Request,
    state: State,
    signed: Checked,
    decision_id: Annotated[int, Form(ge=1)],
) -> Response:
    with write_transaction(state.engine) as conn:
        status = undo(
            conn,
            case_id=case_id,
            decision_id=decision_id,
            actor=signed.reviewer.username,
            now=datetime.now(UTC),
        )
    request.app.state.webhooks.nudge()
    return _see(f"/dashboard/cases/{quote(case_id, safe='')}?undone={quote(status)}")


@router.post("/assign")
def post_assign(
    case_id: str,
    state: State,
    signed: Checked,
    to: Annotated[Literal["me", "nobody"], Form()] = "me",
) -> Response:
    with write_transaction(state.engine) as conn:
        assign(
            conn,
            case_id=case_id,
            reviewer_id=signed.reviewer.id if to == "me" else None,
            actor=signed.reviewer.username,
            now=datetime.now(UTC),
        )
    return _see(f"/dashboard/cases/{quote(case_id, safe='')}")


@bulk.post("/dashboard/decisions")
def post_bulk(
    request: Request,
    state: State,
    signed: Checked,
    action: Annotated[Action, Form()],
    case_id: Annotated[list[str], Form()],
    note: Annotated[str, Form(max_length=10_000)] = "",
    back: Annotated[str, Form(max_length=2048)] = "/dashboard",
) -> Response:
    """One decision on each chosen case, all in one transaction: all or none."""
    if len(case_id) > BULK_LIMIT:
        raise InvalidRequestError(f"case_id: {len(case_id)} cases chosen; at most {BULK_LIMIT}")
    now = datetime.now(UTC)
    made = []
    with write_transaction(state.engine) as conn:
        for one in dict.fromkeys(case_id):
            _decidable(conn, one)
            made.append(
                decide(
                    conn,
                    case_id=one,
                    action=action,
                    note=note.strip(),
                    actor=signed.reviewer.username,
                    now=now,
                    webhook_url=state.settings.webhook_url,
                ).decision_id
            )
    request.app.state.webhooks.nudge()
    target = safe_next(back)
    joiner = "&" if "?" in target else "?"
    return _see(f"{target}{joiner}decided={','.join(str(i) for i in made)}")


def _decidable(conn: Connection, case_id: str) -> None:
    """A closed or cleared case is decided: the reviewer reopens it to decide again."""
    status = conn.execute(select(CaseRow.status).where(CaseRow.case_id == case_id)).scalar()
    if status is None:
        raise NotFoundError(f"case_id: no case {case_id!r}")
    if status in ("closed", "cleared"):
        raise InvalidRequestError(
            f"case_id: {case_id} is {status}; reopen it before deciding again"
        )


def _see(target: str) -> Response:
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)


@router.post("/snooze")
def post_snooze(
    case_id: str,
    state: State,
    signed: Checked,
    until: Annotated[str, Form(max_length=32)] = "",
    rise: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    until_at = _date(until)
    rise_by = _number(rise)
    with write_transaction(state.engine) as conn:
        snooze(
            conn,
            case_id=case_id,
            actor=signed.reviewer.username,
            now=datetime.now(UTC),
            until=until_at,
            rise=rise_by,
            note=note.strip(),
        )
    return RedirectResponse("/dashboard", status_code=303, headers=SECURITY_HEADERS)


@router.post("/reopen")
def post_reopen(
    case_id: str,
    state: State,
    signed: Checked,
    note: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    with write_transaction(state.engine) as conn:
        reopen(
            conn,
            case_id=case_id,
            actor=signed.reviewer.username,
            now=datetime.now(UTC),
            note=note.strip(),
        )
    return RedirectResponse(
        f"/dashboard/cases/{case_id}", status_code=303, headers=SECURITY_HEADERS
    )


def _date(value: str) -> datetime | None:
    if not value.strip():
        return None
    try:
        # A bare date (what the form's date picker sends) means 00:00 UTC that day.
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidRequestError(f"until: {value!r} is not a date (YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _number(value: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidRequestError(f"rise: {value!r} is not a number") from None
