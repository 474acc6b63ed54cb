"""One case: its score and reasons, the evidence charts, accounts, shared
infrastructure, related cases, and its decision history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from detector.api.deps import State
from detector.dashboard import banner, charts
from detector.dashboard.auth import SignedIn
from detector.dashboard.evidence import case_detail
from detector.dashboard.explain import explain, scope_sentence
from detector.dashboard.labels import capability_label
from detector.dashboard.web import render
from detector.errors import NotFoundError
from detector.store.campaigns import campaign_cases
from detector.store.db import write_transaction
from detector.store.outcomes import account_total, assignees, outcomes
from detector.store.reviews import audit_trail, aware, mark_viewed

# The pipeline keeps this many days of daily volume (``EngineConfig.retention_days``):
# the volume chart says so when a case is older.
RETENTION_DAYS = 30

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
    decided: Annotated[str, Query(max_length=4096, pattern=r"^[0-9,]*$")] = "",
    undone: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    now = datetime.now(UTC)
    with state.engine.connect() as conn:
        detail = case_detail(conn, case_id=case_id, search=q, page=page)
        if detail is None:
            raise NotFoundError(f"case_id: no case {case_id!r}")
        history = audit_trail(conn, case_id=case_id, limit=100)
        campaign = (
            campaign_cases(conn, campaign_id=detail.case.campaign_id)
            if detail.case.campaign_id is not None
            else []
        )
        outcome = outcomes(conn, cases={case_id: detail.case.status})[case_id]
        assignee = assignees(conn, case_ids=[case_id]).get(case_id)
        done = banner.decided(
            conn,
            decision_ids=[int(i) for i in decided.split(",") if i],
            actor=signed.reviewer.username,
            now=now,
        )
        # Without a search, the page's count of matches is the case's whole size.
        total = detail.account_matches if not q else account_total(conn, case_id=case_id)
    with write_transaction(state.engine) as conn:
        mark_viewed(conn, reviewer_id=signed.reviewer.id, case_id=case_id, now=now)
    case = detail.case
    features = dict(case.features or {})
    why = explain(case.contributions, case.reasons, features)
    decided_at = [
        aware(row.created_at) for row in detail.decisions if row.action in ("block", "accept")
    ]
    return render(
        "case.html",
        reviewer=signed.reviewer,
        csrf=signed.csrf,
        detail=detail,
        case=case,
        history=history,
        campaign=campaign,
        shared=strongest_first(case.shared or {}),
        features=sorted(
            (name, value)
            for name, value in features.items()
            if not name.startswith(("pop_", "release_", "typ_"))
        ),
        search=q,
        why=why,
        scope=scope_sentence(why, account_count=total, scored_at=aware(case.last_event_at)),
        outcome=outcome,
        assignee=assignee,
        locked=case.status in ("closed", "cleared"),
        done=done,
        done_summary=banner.summary(done) if done else "",
        undone=undone,
        mix_chart=charts.capability_bars(
            {capability_label(k): v for k, v in (case.capability_mix or {}).items()},
            {capability_label(k): v for k, v in population_mix(features).items()},
        ),
        volume_chart=charts.daily_volume(
            case.timeline or [],
            model_releases(features, state.settings.model_releases),
            opened=aware(case.opened_at).date(),
            decided=[moment.date() for moment in decided_at],
            retention_days=RETENTION_DAYS,
        ),
        signup_chart=charts.signup_histogram(
            detail.signups, hourly=detail.signups_hourly, baseline=detail.signups_elsewhere
        ),
        today=now.date().isoformat(),
        now=now,
        total_accounts=total,
    )


def strongest_first(shared: dict[str, Any]) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(kind, label, values) with the kinds whose best value ties the most accounts
    first, and inside each kind the values shared by the most accounts first: a card
    two accounts share is a weaker tie than a prefix all of them use."""
    kinds = [
        (
            kind,
            SHARED_KINDS.get(kind, kind),
            sorted(values, key=lambda v: (-int(v.get("accounts", 0)), -int(v.get("records") or 0))),
        )
        for kind, values in shared.items()
        if values
    ]
    kinds.sort(key=lambda item: -max(int(v.get("accounts", 0)) for v in item[2]))
    return kinds
