"""The pages a reviewer follows a tie through: a case's network, one shared value
across the platform, and one account across its cases."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from detector.api.deps import State
from detector.dashboard import network
from detector.dashboard.auth import SignedIn
from detector.dashboard.links import account_view, blocked_among, cases_sharing, signup_groups
from detector.dashboard.routes.case import SHARED_KINDS
from detector.dashboard.web import render
from detector.errors import NotFoundError
from detector.store.outcomes import account_total
from detector.store.pipeline_models import CaseRow

router = APIRouter(prefix="/dashboard")


@router.get("/cases/{case_id}/network")
def network_page(case_id: str, state: State, signed: SignedIn) -> Response:
    with state.engine.connect() as conn:
        row = conn.execute(CaseRow.__table__.select().where(CaseRow.case_id == case_id)).first()
        if row is None:
            raise NotFoundError(f"case_id: no case {case_id!r}")
        found = network.ties(row.shared or {}, signup_groups(conn, case_id=case_id))
        drawn = sorted({a for tie in found for a in tie.accounts})
        blocked = blocked_among(conn, account_ids=drawn)
        total = account_total(conn, case_id=case_id)
    return render(
        "network.html",
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        case=row,
        ties=found,
        svg=network.draw(found, blocked=frozenset(blocked)),
        drawn=len(drawn),
        total=total,
        active=(row.features or {}).get("cluster_accounts"),
    )


@router.get("/shared/{kind}")
def shared_page(
    kind: str,
    state: State,
    signed: SignedIn,
    value: Annotated[str, Query(min_length=1, max_length=2048)],
) -> Response:
    if kind not in SHARED_KINDS:
        raise NotFoundError(f"kind: {kind!r} is not one of {', '.join(SHARED_KINDS)}")
    with state.engine.connect() as conn:
        sharing = cases_sharing(conn, kind=kind, value=value)
        inside = sorted({a for s in sharing for a in s.tie.accounts})
        outside = sorted({a for s in sharing for a in s.tie.others} - set(inside))
        blocked = blocked_among(conn, account_ids=inside + outside)
    platform = max((s.tie.platform or 0 for s in sharing), default=0)
    return render(
        "shared.html",
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        kind=kind,
        kind_label=SHARED_KINDS[kind],
        value=value,
        sharing=sharing,
        inside=inside,
        outside=outside,
        blocked=blocked,
        platform=platform,
    )


@router.get("/accounts/{account_id}")
def account_page(account_id: str, state: State, signed: SignedIn) -> Response:
    with state.engine.connect() as conn:
        view = account_view(conn, account_id=account_id)
    if view is None:
        raise NotFoundError(f"account_id: no account {account_id!r}")
    return render(
        "account.html",
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        view=view,
        kinds=SHARED_KINDS,
    )
