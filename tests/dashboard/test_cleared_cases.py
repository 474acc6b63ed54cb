"""Cleared cases as reviewers and tools see them: out of the open queue and its
count, in their own tab and through ``GET /v1/cases?status=cleared``, shown as
cleared on their page, and reopened by a reviewer (audited) or by a new flag."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, select

from detector.store.clearing import clear_quiet_cases
from detector.store.db import write_transaction
from detector.store.pipeline_models import CaseRow
from detector.store.reviews import audit_trail
from tests.dashboard.conftest import csrf_of
from tests.dashboard.seeding import ORIGIN, seed_case
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


@pytest.fixture
def cleared(engine: Engine, seeded: Callable[..., None]) -> None:
    """Two cases flagged until ORIGIN + 14 days; "quiet" was last flagged a week
    earlier, and the pipeline's watermark has since passed seven days beyond it."""
    seeded(seed_case, "busy", score=0.93, account_ids=["b1", "b2"])
    seeded(
        seed_case,
        "quiet",
        score=0.0002,
        account_ids=["q1", "q2"],
        last_flagged_at=ORIGIN + timedelta(days=7),
    )
    watermark = (ORIGIN + timedelta(days=14, hours=3)).timestamp()
    with write_transaction(engine) as conn:
        result = clear_quiet_cases(
            conn, updates=[], threshold=0.7, event_time=watermark, clear_after_days=7.0
        )
    assert result.cleared == ["quiet"]


def status_of(engine: Engine, case_id: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(CaseRow.status).where(CaseRow.case_id == case_id)).scalar())


def tab_count(html: str, label: str) -> int:
    """The count on a tab of the queue."""
    found = re.search(rf'>\s*{label} <span class="count">([\d,]+)</span>', html)
    assert found, f"no {label!r} tab"
    return int(found.group(1).replace(",", ""))


def test_a_cleared_case_leaves_the_open_queue_and_its_count(
    cleared: None, live: LiveServer, browser_client: httpx.Client
) -> None:
    queue = browser_client.get("/dashboard").text
    assert 'data-case-id="busy"' in queue and 'data-case-id="quiet"' not in queue
    assert tab_count(queue, "open") == 1 and tab_count(queue, "cleared") == 1

    tab = browser_client.get("/dashboard", params={"status": "cleared"}).text
    assert 'data-case-id="quiet"' in tab and 'data-case-id="busy"' not in tab
    every = browser_client.get("/dashboard", params={"status": "all"}).text
    assert 'data-case-id="quiet"' in every and 'data-case-id="busy"' in every

    with live.client() as api:
        open_ids = [
            c["case_id"] for c in api.get("/v1/cases", params={"status": "open"}).json()["items"]
        ]
        listed = api.get("/v1/cases", params={"status": "cleared"}).json()["items"]
        case = api.get("/v1/cases/quiet").json()
        metrics = api.get("/metrics").text
    assert open_ids == ["busy"]
    assert [c["case_id"] for c in listed] == ["quiet"]
    assert case["status"] == "cleared"
    assert case["last_flagged_at"] == "2026-03-02T00:00:00+00:00"
    assert 'detector_cases{status="cleared"} 1.0' in metrics
    assert 'detector_cases{status="open"} 1.0' in metrics


def test_the_case_page_shows_the_clearing_and_a_reviewer_reopens_it(
    cleared: None, live: LiveServer, browser_client: httpx.Client, engine: Engine
) -> None:
    page = browser_client.get("/dashboard/cases/quiet").text
    assert 'id="case-status">cleared</span>' in page
    note = re.search(r'<div class="cleared" id="cleared">\s*<p>(.*?)</p>', page, re.S)
    assert note, "the page does not say the case was cleared"
    text = " ".join(note.group(1).split())
    assert "by the pipeline: below the threshold for 7 days of event time" in text
    assert "last at or over the threshold 2026-03-02 00:00 UTC (event time)" in text
    assert 'id="reopen-button"' in page
    assert page.count("/dashboard/cases/quiet/reopen") == 1

    answer = browser_client.post(
        "/dashboard/cases/quiet/reopen",
        data={"csrf_token": csrf_of(page), "note": "same card as last month's block"},
    )
    assert answer.status_code == 303
    assert status_of(engine, "quiet") == "open"
    with engine.connect() as conn:
        latest = audit_trail(conn, case_id="quiet")
    assert [(e.actor, e.action) for e in latest] == [("alice", "reopen"), ("pipeline", "clear")]
    assert latest[0].detail == {"from": "cleared"}
    assert latest[0].note == "same card as last month's block"
    history = browser_client.get("/dashboard/cases/quiet").text
    assert 'id="cleared"' not in history
    assert "action-clear" in history and "action-reopen" in history

    # A reviewer's reopen stands: the pipeline does not clear the case again.
    with write_transaction(engine) as conn:
        later = (ORIGIN + timedelta(days=60)).timestamp()
        clear_quiet_cases(conn, updates=[], threshold=0.7, event_time=later, clear_after_days=7.0)
    assert status_of(engine, "quiet") == "open"
    assert 'data-case-id="quiet"' in browser_client.get("/dashboard").text


def test_the_audit_page_lists_the_pipelines_clearing(
    cleared: None, browser_client: httpx.Client
) -> None:
    audit = browser_client.get("/dashboard/audit").text
    assert "pipeline" in audit and "below the threshold for 7 days of event time" in audit


def test_a_decision_on_a_cleared_case_stands(
    cleared: None, live: LiveServer, engine: Engine
) -> None:
    with live.client() as api:
        decided = api.post("/v1/cases/quiet/decisions", json={"action": "watch"})
    assert decided.status_code == 201 and decided.json()["status"] == "in_review"
    with write_transaction(engine) as conn:
        later = datetime(2026, 9, 1, tzinfo=UTC).timestamp()
        clear_quiet_cases(conn, updates=[], threshold=0.7, event_time=later, clear_after_days=7.0)
    assert status_of(engine, "quiet") == "in_review"
