"""One case: its score and reasons, the evidence charts, accounts, shared
infrastructure, related cases, and its decision history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from detector.api.deps import State
from detector.dashboard import charts
from detector.dashboard.auth import SignedIn
from detector.dashboard.evidence import case_detail
from detector.dashboard.web import render
from detector.errors import NotFoundError
from detector.store.campaigns import campaign_cases
from detector.store.db import write_transaction
from detector.store.reviews import audit_trail, mark_viewed

router = APIRouter(prefix="/dashboard")

# Display names of the kinds of shared infrastructure in ``cases.shared``.
SHARED_KINDS = {
    "payment": "Payment instruments",
    "ip_prefix": "IP prefixes",
    "client": "Client fingerprints",
    "template": "Prompt templates",
    "system": "System prompts",
    "tools": "Tool schemas",
    "api_key": "API keys",
}


def population_mix(features: dict[str, Any]) -> dict[str, float]:
    """The honest population's capability mix, where the pipeline recorded it as
    ``pop_<capability>`` features next to the case's own."""
    return {
        name[4:]: float(value)
        for name, value in features.items()
        if name.startswith("pop_") and isinstance(value, int | float)
    }


def model_releases(features: dict[str, Any], configured: dict[str, str]) -> dict[str, str]:
    """Model → release date for the timeline's markers: the first-seen times the
    pipeline recorded as ``release_<model>`` features (epoch seconds), with the
    dates configured in ``DETECTOR_MODEL_RELEASES`` taking precedence."""
    seen = {
        name[8:]: datetime.fromtimestamp(float(value), UTC).date().isoformat()
        for name, value in features.items()
        if name.startswith("release_") and isinstance(value, int | float)
    }
    return seen | dict(configured)


@router.get("/cases/{case_id}")
def case_page(
    case_id: str,
    state: State,
    signed: SignedIn,
    q: Annotated[str, Query(max_length=256)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    with state.engine.connect() as conn:
        detail = case_detail(conn, case_id=case_id, search=q, page=page)
        history = audit_trail(conn, case_id=case_id, limit=100) if detail else []
        campaign = (
            campaign_cases(conn, campaign_id=detail.case.campaign_id)
            if detail is not None and detail.case.campaign_id is not None
            else []
        )
    if detail is None:
        raise NotFoundError(f"case_id: no case {case_id!r}")
    with write_transaction(state.engine) as conn:
        mark_viewed(conn, reviewer_id=signed.reviewer.id, case_id=case_id, now=datetime.now(UTC))
    case = detail.case
    features = dict(case.features or {})
    shared = {
        SHARED_KINDS.get(kind, kind): sorted(values, key=lambda v: -int(v.get("accounts", 0)))
        for kind, values in (case.shared or {}).items()
        if values
    }
    return render(
        "case.html",
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        detail=detail,
        case=case,
        history=history,
        campaign=campaign,
        shared=shared,
        features=sorted(
            (name, value)
            for name, value in features.items()
            if not name.startswith(("pop_", "release_"))
        ),
        search=q,
        mix_chart=charts.capability_bars(case.capability_mix or {}, population_mix(features)),
        volume_chart=charts.daily_volume(
            case.timeline or [], model_releases(features, state.settings.model_releases)
        ),
        signup_chart=charts.signup_histogram(detail.signups, hourly=detail.signups_hourly),
        today=datetime.now(UTC).date().isoformat(),
    )
