"""What a decision did, where a reviewer and a client look: the outcome in the API,
the queue and the header; the banner, undo, the next case, locked forms, bulk
decisions, assignment; one 422 shape; the error page's way back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from sqlalchemy import Engine, select, update

from detector.store.db import write_transaction
from detector.store.outcomes import undo
from detector.store.pipeline_models import CaseRow, DecisionRow
from detector.store.review_models import WebhookDeliveryRow
from detector.store.reviews import audit_trail
from detector.store.reviews import decide as store_decide
from tests.dashboard.conftest import csrf_of, sign_in
from tests.dashboard.seeding import add_test_reviewer, seed_case
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


@pytest.fixture
def three(seeded: Callable[..., None]) -> None:
    seeded(seed_case, "c1", score=0.95, account_ids=[f"a{i}" for i in range(6)])
    seeded(seed_case, "c2", score=0.85, account_ids=["b1", "b2"])
    seeded(seed_case, "c3", score=0.75, account_ids=["c1"])


def decide(client: httpx.Client, case_id: str, action: str) -> httpx.Response:
    page = client.get(f"/dashboard/cases/{case_id}")
    return client.post(
        f"/dashboard/cases/{case_id}/decisions",
        data={"action": action, "note": "seen", "csrf_token": csrf_of(page.text)},
    )


def test_the_outcome_is_in_the_api_the_queue_and_the_header(
    live: LiveServer, browser_client: httpx.Client, three: None
) -> None:
    with live.client() as api:
        assert api.get("/v1/cases/c1").json()["outcome"] is None
        assert api.post("/v1/cases/c1/decisions", json={"action": "block"}).json()["outcome"] == (
            "blocked"
        )
        api.post("/v1/cases/c2/decisions", json={"action": "accept"})
        api.post("/v1/cases/c3/decisions", json={"action": "escalate"})
        listed = {
            c["case_id"]: c for c in api.get("/v1/cases", params={"status": "all"}).json()["items"]
        }
        # Status alone says "closed" for both; the outcome tells them apart.
        assert (listed["c1"]["status"], listed["c1"]["outcome"]) == ("closed", "blocked")
        assert (listed["c2"]["status"], listed["c2"]["outcome"]) == ("closed", "accepted")
        assert (listed["c3"]["status"], listed["c3"]["outcome"]) == ("in_review", "escalated")
        detail = api.get("/v1/cases/c1").json()
        assert detail["outcome"] == "blocked" and "contributions" in detail
        decisions = api.get("/v1/cases/c1/decisions")
        assert decisions.status_code == 200
        (only,) = decisions.json()["items"]
        assert only["action"] == "block" and only["outcome"] == "blocked"
        assert datetime.fromisoformat(only["created_at"]).tzinfo is not None
        assert api.get("/v1/cases/nope/decisions").status_code == 404
    with httpx.Client(base_url=live.url) as anonymous:
        assert anonymous.get("/v1/cases/c1/decisions").status_code == 401

    closed = browser_client.get("/dashboard", params={"status": "closed"}).text
    assert 'class="badge outcome-blocked">blocked<' in closed
    assert 'class="badge outcome-accepted">accepted<' in closed
    everything = browser_client.get("/dashboard", params={"status": "all"})
    assert everything.status_code == 200 and everything.text.count('class="case-row"') == 3
    header = browser_client.get("/dashboard/cases/c1").text
    assert 'id="case-outcome">blocked<' in header


def test_a_decision_shows_what_changed_and_can_be_undone_once(
    live: LiveServer, browser_client: httpx.Client, three: None, engine: Engine
) -> None:
    answer = decide(browser_client, "c1", "block")
    assert answer.status_code == 303
    target = answer.headers["location"]
    assert target.startswith("/dashboard/cases/c1?decided=")
    page = browser_client.get(target).text
    assert "Blocked: 6 accounts of case c1 are on the blocklist" in page
    assert 'id="next-case" href="/dashboard/next?after=c1"' in page
    # The form is locked until the case is reopened, and the server refuses it too.
    assert 'id="locked"' in page and 'id="decide-button"' not in page
    again = decide(browser_client, "c1", "accept")
    assert again.status_code == 422 and "reopen it before deciding again" in again.text
    with live.client() as api:
        assert len(api.get("/v1/blocklist").json()["items"]) == 6

    decision_id = int(target.rsplit("=", 1)[1])
    undone = browser_client.post(
        "/dashboard/cases/c1/undo", data={"decision_id": decision_id, "csrf_token": csrf_of(page)}
    )
    assert undone.status_code == 303 and "undone=open" in undone.headers["location"]
    with live.client() as api:
        assert api.get("/v1/blocklist").json()["items"] == []
        case = api.get("/v1/cases/c1").json()
        assert (case["status"], case["outcome"]) == ("open", None)
        assert api.get("/v1/cases/c1/decisions").json()["items"] == []
    with engine.connect() as conn:
        actions = [entry.action for entry in audit_trail(conn, case_id="c1")]
    assert actions[:2] == ["undo", "block"], "the audit log keeps both"
    twice = browser_client.post(
        "/dashboard/cases/c1/undo", data={"decision_id": decision_id, "csrf_token": csrf_of(page)}
    )
    assert twice.status_code == 404


def test_undo_is_for_its_author_and_within_the_window(
    live: LiveServer, three: None, engine: Engine, browser_client: httpx.Client
) -> None:
    with write_transaction(engine) as conn:
        add_test_reviewer(conn, "bob")
    target = decide(browser_client, "c2", "watch").headers["location"]
    decision_id = int(target.rsplit("=", 1)[1])
    bob = sign_in(live.url, "bob")
    try:
        page = bob.get("/dashboard/cases/c2").text
        refused = bob.post(
            "/dashboard/cases/c2/undo",
            data={"decision_id": decision_id, "csrf_token": csrf_of(page)},
        )
        assert refused.status_code == 422 and "made by another reviewer" in refused.text
    finally:
        bob.close()
    with write_transaction(engine) as conn:
        conn.execute(
            update(DecisionRow)
            .where(DecisionRow.id == decision_id)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=11))
        )
    page = browser_client.get(target).text
    assert 'id="undo-c2"' not in page, "no undo button past the window"
    late = browser_client.post(
        "/dashboard/cases/c2/undo", data={"decision_id": decision_id, "csrf_token": csrf_of(page)}
    )
    assert late.status_code == 422 and "older than 10 minutes" in late.text


def test_next_case_skips_the_decided_one_and_cases_taken_by_others(
    live: LiveServer, browser_client: httpx.Client, three: None, engine: Engine
) -> None:
    following = browser_client.get("/dashboard/next", params={"after": "c1"})
    assert following.headers["location"] == "/dashboard/cases/c2"
    with write_transaction(engine) as conn:
        add_test_reviewer(conn, "bob")
    bob = sign_in(live.url, "bob")
    try:
        page = bob.get("/dashboard/cases/c2").text
        bob.post("/dashboard/cases/c2/assign", data={"to": "me", "csrf_token": csrf_of(page)})
    finally:
        bob.close()
    assert browser_client.get("/dashboard/next", params={"after": "c1"}).headers["location"] == (
        "/dashboard/cases/c3"
    )
    assert (
        'Assigned to <strong id="assignee">bob</strong>'
        in browser_client.get("/dashboard/cases/c2").text
    )
    page = browser_client.get("/dashboard/cases/c3").text
    browser_client.post(
        "/dashboard/cases/c3/assign", data={"to": "me", "csrf_token": csrf_of(page)}
    )
    mine = browser_client.get("/dashboard", params={"mine": "1"}).text
    assert mine.count('class="case-row"') == 1 and 'data-case-id="c3"' in mine
    with engine.connect() as conn:
        assert next(e.action for e in audit_trail(conn, case_id="c3")) == "assign"


def test_bulk_decisions_from_the_queue_are_all_or_none(
    live: LiveServer, browser_client: httpx.Client, three: None
) -> None:
    queue = browser_client.get("/dashboard").text
    assert "3 cases ·" in queue
    csrf = csrf_of(queue)
    answer = browser_client.post(
        "/dashboard/decisions",
        data={"action": "block", "case_id": ["c1", "c2"], "csrf_token": csrf, "back": "/dashboard"},
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith(
        "/dashboard?decided="
    )
    after = browser_client.get(answer.headers["location"]).text
    assert "Blocked 2 cases" in after and "1 case ·" in after
    with live.client() as api:
        assert len(api.get("/v1/blocklist").json()["items"]) == 8
    # One closed case among them refuses the whole batch.
    refused = browser_client.post(
        "/dashboard/decisions",
        data={"action": "watch", "case_id": ["c3", "c1"], "csrf_token": csrf, "back": "/dashboard"},
    )
    assert refused.status_code == 422
    with live.client() as api:
        assert api.get("/v1/cases/c3").json()["status"] == "open"


def test_every_422_has_one_shape(live: LiveServer, three: None) -> None:
    with live.client() as api:
        for answer in (
            api.get("/v1/cases", params={"status": "shut"}),
            api.get("/v1/cases", params={"limit": 0}),
            api.post("/v1/cases/c1/decisions", json={"action": "ban"}),
            api.get("/v1/blocklist", params={"since": "yesterday"}),
        ):
            assert answer.status_code == 422
            body = answer.json()
            assert set(body) == {"detail", "errors"} and isinstance(body["detail"], str)
            assert body["errors"] and all(set(e) == {"field", "message"} for e in body["errors"])
            assert body["detail"].startswith(body["errors"][0]["field"] + ": ")
        assert api.get("/v1/cases", params={"status": "all"}).status_code == 200


def test_the_error_page_leads_back(live: LiveServer, browser_client: httpx.Client) -> None:
    missing = browser_client.get(
        "/dashboard/cases/nope", headers={"Referer": f"{live.url}/dashboard?status=closed"}
    )
    assert missing.status_code == 404
    assert 'href="/dashboard?status=closed" id="error-back"' in missing.text
    assert 'href="/dashboard/blocklist"' in missing.text
    elsewhere = browser_client.get(
        "/dashboard/cases/nope", headers={"Referer": "https://evil.example/dashboard"}
    )
    assert "error-back" not in elsewhere.text
    bad = browser_client.get("/dashboard", params={"sort": "sideways"})
    assert bad.status_code == 422 and "sort" in bad.text and 'href="/dashboard"' in bad.text


def test_a_case_written_before_the_terms_shows_its_reasons_unsigned(
    browser_client: httpx.Client, seeded: Callable[..., None], engine: Engine
) -> None:
    seeded(seed_case, "old", score=0.9, account_ids=["x1", "x2"], reasons=["a reason"])
    page = browser_client.get("/dashboard/cases/old").text
    assert "scored before signed weights were kept" in page and "a reason" in page
    with write_transaction(engine) as conn:
        conn.execute(
            update(CaseRow)
            .where(CaseRow.case_id == "old")
            .values(
                contributions=[
                    {"name": "baseline", "weight": -3.5, "reason": "start"},
                    {
                        "name": "shared_payment",
                        "weight": 3.0,
                        "reason": "cards",
                        "feature": "cross_org_payment_share",
                        "value": 0.5,
                    },
                    {
                        "name": "human_rhythm",
                        "weight": -1.0,
                        "reason": "working-day rhythm",
                        "feature": "hour_flatness",
                        "value": 0.6,
                    },
                ],
                features={
                    "cluster_accounts": 2,
                    "active_days": 14.0,
                    "typ_hour_flatness": 0.8,
                    "typ_clusters": 9,
                },
            )
        )
    page = browser_client.get("/dashboard/cases/old").text
    raised = page.split('id="raised"', 1)[1].split("</table>", 1)[0]
    lowered = page.split('id="lowered"', 1)[1].split("</table>", 1)[0]
    assert "cards" in raised and "+3.0" in raised and "50%" in raised
    assert "working-day rhythm" in lowered and "−1.0" in lowered and "80%" in lowered
    assert "working-day rhythm" not in raised
    assert "Counts below are of the 2 of the case&#39;s 2 accounts active in the 14 days" in page


def test_undo_withdraws_a_webhook_not_yet_sent_and_follows_one_that_was(
    engine: Engine, seeded: Callable[..., None]
) -> None:
    seeded(seed_case, "w1", score=0.9, account_ids=["x1"])
    seeded(seed_case, "w2", score=0.9, account_ids=["y1"])
    now = datetime.now(UTC)
    hook = "http://127.0.0.1:9/hook"
    with write_transaction(engine) as conn:
        pending = store_decide(
            conn, case_id="w1", action="block", note="", actor="alice", now=now, webhook_url=hook
        )
        sent = store_decide(
            conn, case_id="w2", action="block", note="", actor="alice", now=now, webhook_url=hook
        )
        conn.execute(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.decision_id == sent.decision_id)
            .values(state="delivered")
        )
    with write_transaction(engine) as conn:
        assert undo(
            conn, case_id="w1", decision_id=pending.decision_id, actor="alice", now=now
        ) == ("open")
        undo(conn, case_id="w2", decision_id=sent.decision_id, actor="alice", now=now)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                WebhookDeliveryRow.decision_id, WebhookDeliveryRow.state, WebhookDeliveryRow.payload
            ).order_by(WebhookDeliveryRow.id)
        ).all()
    assert [(r[0], r[1]) for r in rows] == [
        (sent.decision_id, "delivered"),
        (sent.decision_id, "pending"),
    ]
    event = orjson.loads(rows[1][2])
    assert event["event"] == "undo" and event["case_id"] == "w2" and event["action"] == "block"


def test_a_shared_value_leads_to_every_case_and_account_using_it(
    browser_client: httpx.Client, seeded: Callable[..., None], engine: Engine
) -> None:
    odd = 'curl/8 "ünïcode" <b>'
    for case_id, accounts in (("s1", ["p1", "p2", "p3"]), ("s2", ["q1", "q2"])):
        seeded(seed_case, case_id, score=0.9, account_ids=accounts)
        with write_transaction(engine) as conn:
            conn.execute(
                update(CaseRow)
                .where(CaseRow.case_id == case_id)
                .values(
                    shared={
                        "client": [
                            {
                                "value": odd,
                                "accounts": len(accounts),
                                "records": 10,
                                "platform_accounts": 9,
                                "account_ids": accounts,
                                "other_account_ids": ["loner"],
                            }
                        ]
                    }
                )
            )
    page = browser_client.get("/dashboard/shared/client", params={"value": odd})
    assert page.status_code == 200
    assert 'href="/dashboard/cases/s1"' in page.text and 'href="/dashboard/cases/s2"' in page.text
    assert 'id="platform-count">9<' in page.text and "&lt;b&gt;" in page.text
    for account in ("p1", "p3", "q2", "loner"):
        assert f'href="/dashboard/accounts/{account}"' in page.text
    assert (
        browser_client.get("/dashboard/shared/nonsense", params={"value": "x"}).status_code == 404
    )

    network = browser_client.get("/dashboard/cases/s1/network")
    assert network.status_code == 200 and '<svg class="network"' in network.text
    assert "/dashboard/shared/client?value=" in network.text
    account = browser_client.get("/dashboard/accounts/p2")
    assert account.status_code == 200
    assert 'href="/dashboard/cases/s1"' in account.text and 'id="account-blocked">not blocked' in (
        account.text
    )
    assert browser_client.get("/dashboard/accounts/nobody-at-all").status_code == 404
