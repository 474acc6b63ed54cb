"""``POST /v1/cases/{id}/decisions`` and ``GET /v1/blocklist`` over real HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import httpx
import pytest

from tests.dashboard.seeding import seed_case
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


def api(live: LiveServer) -> httpx.Client:
    return live.client()


def test_a_block_closes_the_case_and_lists_its_accounts(
    live: LiveServer, seeded: Callable[..., None]
) -> None:
    seeded(seed_case, "c1", score=0.9, account_ids=["b", "a", "=HYPERLINK(1)"])
    seeded(seed_case, "c2", score=0.8, account_ids=["z"])
    with api(live) as client:
        answer = client.post(
            "/v1/cases/c1/decisions",
            json={"action": "block", "note": "shared card", "actor": "soc-bot"},
        )
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert body["action"] == "block" and body["status"] == "closed"
        assert body["actor"] == "soc-bot" and body["decision_id"] >= 1

        listed = client.get("/v1/blocklist").json()
        assert listed["count"] == 3
        assert [item["account_id"] for item in listed["items"]] == ["=HYPERLINK(1)", "a", "b"]
        assert {item["case_id"] for item in listed["items"]} == {"c1"}

        as_csv = client.get("/v1/blocklist", headers={"Accept": "text/csv"})
        assert as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(as_csv.text)))
        assert rows[0] == ["account_id", "case_id", "decision_id", "blocked_at", "actor"]
        # A formula-looking id is defused for spreadsheets, the rest is verbatim.
        assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(1)", "a", "b"]
        assert client.get("/v1/blocklist?format=csv").text == as_csv.text

        later = client.get("/v1/blocklist", params={"since": "2999-01-01T00:00:00Z"}).json()
        assert later["count"] == 0

        # A later accept on the case takes its accounts off the list.
        client.post("/v1/cases/c1/decisions", json={"action": "accept"}).raise_for_status()
        assert client.get("/v1/blocklist").json()["count"] == 0


def test_bad_decisions_are_refused_with_the_field_named(
    live: LiveServer, seeded: Callable[..., None]
) -> None:
    seeded(seed_case, "c1", score=0.9, account_ids=["a"])
    with api(live) as client:
        missing = client.post("/v1/cases/nope/decisions", json={"action": "block"})
        assert missing.status_code == 404 and "nope" in missing.json()["detail"]
        wrong = client.post("/v1/cases/c1/decisions", json={"action": "ban"})
        assert wrong.status_code == 422
        # Every 422 has one shape: a sentence naming the field, and the list of problems.
        assert wrong.json()["errors"][0]["field"] == "action"
        assert wrong.json()["detail"].startswith("action: 'ban': ")
        bad_since = client.get("/v1/blocklist", params={"since": "yesterday"})
        assert bad_since.status_code == 422
        assert bad_since.json() == {
            "detail": "since: 'yesterday' is not an RFC 3339 time",
            "errors": [{"field": "since", "message": "'yesterday' is not an RFC 3339 time"}],
        }
    with httpx.Client(base_url=live.url) as anonymous:
        assert anonymous.post("/v1/cases/c1/decisions", json={"action": "block"}).status_code == 401
        assert anonymous.get("/v1/blocklist").status_code == 401


def test_watch_and_escalate_keep_the_case_in_review(
    live: LiveServer, seeded: Callable[..., None]
) -> None:
    seeded(seed_case, "c1", score=0.9, account_ids=["a"])
    with api(live) as client:
        for action in ("watch", "escalate"):
            body = client.post("/v1/cases/c1/decisions", json={"action": action}).json()
            assert body["status"] == "in_review"
        assert client.get("/v1/blocklist").json()["count"] == 0
