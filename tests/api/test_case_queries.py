"""``GET /v1/cases`` and ``GET /v1/cases/{case_id}`` with hostile or unusual input:
status filters, and cursors and ids no stored text can hold (a NUL, a lone surrogate),
on both stores."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine

from detector.api.routes.cases import storable
from detector.store.db import write_transaction
from tests.dashboard.seeding import seed_case
from tests.support.server import LiveServer

pytestmark = pytest.mark.db

NUL = ["%00", "C%00001", "%F0%9F%98%80%00"]
NUL_IDS = ["nul", "nul-inside", "emoji-then-nul"]
# The UTF-8 form of a lone surrogate: the server decodes it to U+FFFD (no case id
# has it) before the route sees it; a surrogate that did get through is refused
# like a NUL (``storable``).
SURROGATE = "%ED%A0%80"


@pytest.fixture
def cases(engine: Engine) -> None:
    with write_transaction(engine) as conn:
        seed_case(conn, "C000001", score=0.9, account_ids=["a", "b"])
        seed_case(conn, "C000002", score=0.8, account_ids=["c"], status="cleared")
        seed_case(conn, "C000003", score=0.75, account_ids=["d"], status="closed")


def raw_get(live: LiveServer, target: str) -> httpx.Response:
    """GET with the target sent as is, not re-encoded by the client."""
    with live.client() as client:
        url = httpx.URL(live.url).copy_with(raw_path=target.encode("ascii"))
        return client.get(url)


@pytest.mark.parametrize("cursor", NUL, ids=NUL_IDS)
def test_a_cursor_with_a_nul_is_422_naming_it(server: LiveServer, cases: None, cursor: str) -> None:
    answer = raw_get(server, f"/v1/cases?cursor={cursor}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"].startswith("cursor: ")
    assert "NUL" in answer.json()["detail"]


@pytest.mark.parametrize("case_id", NUL, ids=NUL_IDS)
def test_a_case_id_with_a_nul_is_404_naming_it(
    server: LiveServer, cases: None, case_id: str
) -> None:
    answer = raw_get(server, f"/v1/cases/{case_id}")
    assert answer.status_code == 404, answer.text
    assert answer.json()["detail"].startswith("case_id: no case ")


@pytest.mark.parametrize("case_id", NUL, ids=NUL_IDS)
def test_a_decision_on_a_case_id_with_a_nul_is_404_naming_it(
    server: LiveServer, cases: None, case_id: str
) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.post(
            f"/v1/cases/{case_id}/decisions",
            json={"action": "block", "note": "n"},
            headers={"Authorization": f"Bearer {server.token}"},
        )
    assert answer.status_code == 404, answer.text
    assert "case_id: no case " in answer.text


def test_a_lone_surrogate_finds_nothing(server: LiveServer, cases: None) -> None:
    assert raw_get(server, f"/v1/cases/{SURROGATE}").status_code == 404
    listing = raw_get(server, f"/v1/cases?cursor={SURROGATE}")
    assert listing.status_code in (200, 422), listing.text
    assert listing.status_code == 422 or listing.json()["items"] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [("C000001", True), ("C\x00", False), ("\ud800", False), ("a\udfffb", False), ("😀", True)],
    ids=["id", "nul", "high-surrogate", "low-surrogate", "emoji"],
)
def test_storable(value: str, expected: bool) -> None:
    assert storable(value) is expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", ["C000001"]),
        ("cleared", ["C000002"]),
        ("closed", ["C000003"]),
        ("all", ["C000001", "C000002", "C000003"]),
        (None, ["C000001", "C000002", "C000003"]),
    ],
    ids=["open", "cleared", "closed", "all", "unfiltered"],
)
def test_status_filters(
    server: LiveServer, cases: None, status: str | None, expected: list[str]
) -> None:
    with server.client() as client:
        params = {} if status is None else {"status": status}
        listing = client.get("/v1/cases", params=params).json()
    assert [item["case_id"] for item in listing["items"]] == expected
    if status not in (None, "all"):
        assert {item["status"] for item in listing["items"]} == {status}


def test_an_unknown_status_names_every_accepted_one(server: LiveServer) -> None:
    with server.client() as client:
        answer = client.get("/v1/cases", params={"status": "shut"})
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        "status: 'shut' is not one of open, in_review, snoozed, closed, cleared, all"
    )
