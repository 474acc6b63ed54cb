"""The case queue: open cases by score, opened time or size, filtered and paged."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse, Response

from detector.api.deps import State
from detector.dashboard import banner
from detector.dashboard.auth import SignedIn
from detector.dashboard.queries import STATUSES, following, queue
from detector.dashboard.sweeper import settle
from detector.dashboard.web import SECURITY_HEADERS, render

router = APIRouter()

Status = Literal["open", "in_review", "snoozed", "closed", "cleared", "all"]
Sort = Literal["score", "opened", "size"]


@router.get("/", include_in_schema=False)
def root() -> Response:
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/dashboard")
def queue_page(
    state: State,
    signed: SignedIn,
    status: Annotated[Status, Query()] = "open",
    capability: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[Sort, Query()] = "score",
    page: Annotated[int, Query(ge=1)] = 1,
    mine: Annotated[bool, Query()] = False,
    decided: Annotated[str, Query(max_length=4096, pattern=r"^[0-9,]*$")] = "",
) -> Response:
    # Snoozes that are due and closed cases that came back are settled before the
    # queue is read, so the reviewer sees them where they now belong.
    settle(state.engine, now=datetime.now(UTC))
    with state.engine.connect() as conn:
        view = queue(
            conn,
            reviewer_id=signed.reviewer.id,
            status=status,
            capability=capability or None,
            sort=sort,
            page=page,
            mine=mine,
        )
        done = banner.decided(
            conn,
            decision_ids=[int(i) for i in decided.split(",") if i],
            actor=signed.reviewer.username,
            now=datetime.now(UTC),
        )
    current = {
        "status": status,
        "sort": sort,
        "capability": capability or "",
        "page": page,
        "mine": "1" if mine else "",
    }

    def link(**changes: object) -> str:
        """This view's URL with ``changes``; empty and first-page values left out."""
        params = {key: value for key, value in {**current, **changes}.items() if value}
        if params.get("page") == 1:
            del params["page"]
        return "/dashboard?" + urlencode(params)

    return render(
        "queue.html",
        link=link,
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        view=view,
        status=status,
        statuses=STATUSES,
        capability=capability or "",
        sort=sort,
        mine=mine,
        done=done,
        done_summary=banner.summary(done) if done else "",
        here=link(),
        now=datetime.now(UTC),
    )


@router.get("/dashboard/next")
def next_case(
    state: State,
    signed: SignedIn,
    after: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The open case to look at next: the highest score among those assigned to this
    reviewer or to nobody, other than the one just decided; the queue when none is left."""
    with state.engine.connect() as conn:
        found = following(conn, reviewer_id=signed.reviewer.id, after=after)
    target = "/dashboard" if found is None else f"/dashboard/cases/{quote(found, safe='')}"
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
