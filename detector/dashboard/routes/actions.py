"""The case page's forms: decide, snooze, reopen. Each needs the session's CSRF token
and answers with a redirect (post/redirect/get), so a reload never posts twice."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from detector.api.deps import State
from detector.dashboard.auth import Checked
from detector.dashboard.web import SECURITY_HEADERS
from detector.errors import InvalidRequestError
from detector.store.db import write_transaction
from detector.store.reviews import decide, reopen, snooze

router = APIRouter(prefix="/dashboard/cases/{case_id}")

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
        decide(
            conn,
            case_id=case_id,
            action=action,
            note=note.strip(),
            actor=signed.reviewer.username,
            now=datetime.now(UTC),
            webhook_url=state.settings.webhook_url,
        )
    request.app.state.webhooks.nudge()
    # After a decision the reviewer goes back to the queue for the next case.
    return RedirectResponse("/dashboard", status_code=303, headers=SECURITY_HEADERS)


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
