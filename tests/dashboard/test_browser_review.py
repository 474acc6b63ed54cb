"""A new reviewer's path through a case the real pipeline opened, in headless
Chromium: the score taken apart, a block with its banner, undo, the decision again,
the outcome in the queue; the network, a shared value and an account; bulk decisions
and "assigned to me" from the queue.

Screenshots land in ``artifacts/screenshots/`` (gitignored), named for the step.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.dashboard.seeding import PASSWORD, seed_case
from tests.dashboard.test_browser import browser, page, settings, shot
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import Traffic, make_traffic
from tests.support.server import LiveServer

pytestmark = [pytest.mark.db, pytest.mark.slow]

__all__ = ["browser", "page", "settings"]

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def traffic(live: LiveServer) -> Iterator[Traffic]:
    """The seeded campaign and honest accounts, ingested and run through the pipeline."""
    made = make_traffic(seed=1, hours=48, honest=40, campaign=12)
    with live.client() as api:
        api.post("/v1/accounts", content=ndjson(made.accounts), headers=NDJSON)
        for start in range(0, len(made.records), 8000):
            batch = made.records[start : start + 8000]
            api.post("/v1/records", content=ndjson(batch), headers=NDJSON).raise_for_status()
        api.post("/v1/pipeline/flush").raise_for_status()
    yield made


def sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/dashboard")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/dashboard")


def test_read_the_signed_reasons_block_undo_decide_again_and_follow_the_ties(
    live: LiveServer, page: Any, traffic: Traffic
) -> None:
    sign_in(page, live.url)
    rows = page.locator("tr.case-row")
    assert rows.count() == 1
    case_id = rows.first.get_attribute("data-case-id")
    shot(page, "10-queue-one-pipeline-case")

    rows.first.locator("a.case-link").click()
    page.wait_for_url(f"**/dashboard/cases/{case_id}")
    # Every count says what it counts: the case's accounts, and those active now.
    scope = page.locator("#scope").inner_text()
    assert re.search(
        r"Counts below are of the 12 of the case's 12 accounts active in the 14 days", scope
    )
    raised = page.locator("#raised tr.term")
    assert raised.count() >= 3
    weights = [
        float(w.replace("+", "")) for w in page.locator("#raised td.weight").all_inner_texts()
    ]
    assert all(w > 0 for w in weights) and weights == sorted(weights, reverse=True)
    assert (
        "12 of its 12 accounts share 3 payment instruments" in page.locator("#raised").inner_text()
    )
    for weight in page.locator("#lowered td.weight").all_inner_texts():
        assert weight.startswith("−")
    assert "0.0 requests" not in page.locator("#reasons").inner_text()
    # The volume chart says the span it covers, and marks the day the case opened.
    span = page.locator("#volume svg.chart").get_attribute("aria-label")
    assert re.fullmatch(r"Records per day, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d \(\d+ days\)", span)
    assert page.locator("#volume svg.chart line.marker.opened").count() == 1
    shot(page, "11-case-signed-reasons")

    page.check("input[name=action][value=block]")
    page.fill("textarea[name=note]", "one card farm, reasoning extraction")
    page.click("#decide-button")
    page.wait_for_url(f"**/dashboard/cases/{case_id}?decided=*")
    banner = page.locator("#banner-message").inner_text()
    assert banner.startswith(f"Blocked: 12 accounts of case {case_id} are on the blocklist")
    assert page.locator("#case-outcome").inner_text() == "blocked"
    assert page.locator("#decide-button").count() == 0 and page.locator("#locked").count() == 1
    shot(page, "12-blocked-banner-with-undo")

    page.click(f"#undo-{case_id}")
    page.wait_for_url(f"**/dashboard/cases/{case_id}?undone=open")
    assert "Decision undone" in page.locator("#undone").inner_text()
    assert page.locator("#case-status").inner_text() == "open"
    assert page.locator("#case-outcome").count() == 0
    shot(page, "13-undone")

    page.check("input[name=action][value=block]")
    page.click("#decide-button")
    page.wait_for_url(f"**/dashboard/cases/{case_id}?decided=*")
    page.click("#next-case")
    page.wait_for_url(f"{live.url}/dashboard")  # nothing else is open
    page.click("nav.tabs >> text=Closed")
    closed = page.locator("tr.case-row")
    assert closed.count() == 1
    assert closed.first.locator(".badge.outcome-blocked").inner_text() == "blocked"
    shot(page, "14-queue-closed-with-outcome")

    page.goto(f"{live.url}/dashboard/cases/{case_id}")
    page.click("#network-link")
    page.wait_for_url(f"**/dashboard/cases/{case_id}/network")
    assert page.locator("svg.network").count() == 1
    counts = [int(c) for c in page.locator("#ties tbody tr td:nth-child(3)").all_inner_texts()]
    assert counts == sorted(counts, reverse=True) and counts[0] == 12
    # Blocked accounts are drawn as such.
    assert page.locator("svg.network circle.acct.blocked").count() == 12
    shot(page, "15-network")

    page.locator("#ties tbody tr a").first.click()
    page.wait_for_url("**/dashboard/shared/**")
    assert page.locator("#sharing-cases a", has_text=case_id).count() == 1
    shot(page, "16-shared-value")
    page.locator("#inside a").first.click()
    page.wait_for_url("**/dashboard/accounts/**")
    assert page.locator("#account-blocked").inner_text() == "blocked"
    assert page.locator("#account-cases a", has_text=case_id).count() == 1
    shot(page, "17-account")


def test_bulk_decide_from_the_queue_and_keep_my_cases(
    live: LiveServer, page: Any, seeded: Callable[..., None]
) -> None:
    seeded(seed_case, "case-a", score=0.93, account_ids=["a1", "a2", "a3"])
    seeded(seed_case, "case-b", score=0.88, account_ids=["b1", "b2"])
    seeded(seed_case, "case-c", score=0.72, account_ids=["c1"])
    sign_in(page, live.url)
    page.check("input[name=case_id][value=case-a]")
    page.check("input[name=case_id][value=case-b]")
    page.select_option("select[name=action]", "watch")
    page.fill("#bulk input[name=note]", "same card farm as last week")
    page.click("#bulk-button")
    page.wait_for_url("**/dashboard?*decided=*")
    assert page.locator("#banner-message").inner_text() == "Watched 2 cases."
    assert [r.get_attribute("data-case-id") for r in page.locator("tr.case-row").all()] == [
        "case-c"
    ]
    assert "1 case ·" in page.locator(".since").inner_text()
    shot(page, "18-bulk-watched")

    page.locator("tr.case-row a.case-link").first.click()
    page.click("#assign-button")
    assert page.locator("#assignee").inner_text() == "alice"
    page.goto(f"{live.url}/dashboard")
    page.click("#mine-tab")
    assert [r.get_attribute("data-case-id") for r in page.locator("tr.case-row").all()] == [
        "case-c"
    ]
    assert page.locator("tr.case-row td", has_text="alice").count() == 1
    shot(page, "19-assigned-to-me")
