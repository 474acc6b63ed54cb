"""The reviewer's path in a real headless Chromium: sign in, open the top case, read its
reasons, block it, see it leave the queue and its accounts appear in the blocklist.

Debian's ``chromium`` is driven by Playwright through ``executable_path``; both are
installed by ``.ci/install-browser``. Without them these tests fail, they never skip.
Screenshots land in ``artifacts/screenshots/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from detector.config import Settings
from detector.store.clearing import clear_quiet_cases
from detector.store.db import write_transaction
from tests.dashboard.seeding import ORIGIN, PASSWORD, seed_case
from tests.support.server import LiveServer

pytestmark = [pytest.mark.db, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium waits on services it cannot reach
# on a closed network.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
XSS = "<script>alert(1)</script>"


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """A model released in the middle of the seeded cases' timelines."""
    return make_settings(model_releases={"claude-opus-4-6": "2026-03-01"})


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: run .ci/install-browser (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run .ci/install-browser")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []

    def refuse(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert dialogs == [], f"a script ran in the page: {dialogs}"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_sign_in_read_the_top_case_block_it_and_find_it_in_the_blocklist(
    live: LiveServer, page: Any, seeded: Callable[..., None]
) -> None:
    top_accounts = [f"mm-{i:03d}" for i in range(12)] + [XSS]
    seeded(
        seed_case,
        "case-top",
        score=0.97,
        account_ids=top_accounts,
        reasons=[
            "13 accounts share 3 payment instruments",
            "91% of traffic is agentic tool use, against 14% in the population",
        ],
    )
    seeded(seed_case, "case-mid", score=0.81, account_ids=["ds-1", "ds-2"])
    seeded(seed_case, "case-low", score=0.72, account_ids=["edu-1"], main="chat")

    page.goto(f"{live.url}/dashboard")
    assert "/dashboard/signin" in page.url
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    shot(page, "01-sign-in")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/dashboard")

    rows = page.locator("tr.case-row")
    assert rows.count() == 3
    assert rows.first.get_attribute("data-case-id") == "case-top"
    assert page.locator("tr.case-row .badge.new").count() == 3
    shot(page, "02-queue")

    rows.first.locator("a.case-link").click()
    page.wait_for_url("**/dashboard/cases/case-top")
    reasons = page.locator("#reasons li").all_inner_texts()
    assert reasons[0] == "13 accounts share 3 payment instruments"
    assert "agentic tool use" in reasons[1]
    # The hostile account id is there, as text, and did not run (no dialog).
    account_ids = page.locator("td.account-id").all_inner_texts()
    assert XSS in account_ids
    assert page.locator("svg.chart").count() == 3
    assert page.locator('svg.chart line[class="marker"]').count() == 1
    assert page.locator("svg.chart line.marker.opened").count() == 1
    assert "claude-opus-4-6 released" in page.locator("svg.chart").nth(1).inner_html()
    shot(page, "03-case")

    page.check("input[name=action][value=block]")
    page.fill("textarea[name=note]", "shared payment, lockstep timing; MiniMax-like")
    page.click("#decide-button")
    page.wait_for_url("**/dashboard/cases/case-top?decided=*")
    assert (
        page.locator("#banner-message")
        .inner_text()
        .startswith("Blocked: 13 accounts of case case-top are on the blocklist")
    )
    page.click("text=← Queue")
    page.wait_for_url(f"{live.url}/dashboard")
    remaining = [rows.nth(i).get_attribute("data-case-id") for i in range(rows.count())]
    assert remaining == ["case-mid", "case-low"]
    shot(page, "04-queue-after-block")

    page.click("nav >> text=Blocklist")
    page.wait_for_url("**/dashboard/blocklist")
    listed = page.locator("td.account-id").all_inner_texts()
    assert sorted(listed) == sorted(top_accounts)
    shot(page, "05-blocklist")

    page.click("nav >> text=Audit log")
    audit = page.locator("table.audit tbody tr").first.inner_text()
    assert "alice" in audit and "block" in audit and "MiniMax-like" in audit
    shot(page, "06-audit")


def test_the_cleared_tab_lists_a_cleared_case_and_reopening_brings_it_back(
    live: LiveServer, page: Any, seeded: Callable[..., None], engine: Engine
) -> None:
    seeded(seed_case, "case-busy", score=0.93, account_ids=["b1", "b2"])
    seeded(
        seed_case,
        "case-quiet",
        score=0.0002,
        account_ids=["q1", "q2"],
        last_flagged_at=ORIGIN + timedelta(days=7),
    )
    with write_transaction(engine) as conn:
        clear_quiet_cases(
            conn,
            updates=[],
            threshold=0.7,
            event_time=(ORIGIN + timedelta(days=15)).timestamp(),
            clear_after_days=7.0,
        )

    page.goto(f"{live.url}/dashboard")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/dashboard")
    rows = page.locator("tr.case-row")
    assert [rows.nth(i).get_attribute("data-case-id") for i in range(rows.count())] == ["case-busy"]

    tab = page.locator("nav.tabs a", has_text="cleared")
    assert tab.inner_text().split() == ["Cleared", "1"]
    tab.click()
    page.wait_for_url("**/dashboard?status=cleared*")
    assert rows.count() == 1 and rows.first.get_attribute("data-case-id") == "case-quiet"
    shot(page, "07-cleared-tab")

    rows.first.locator("a.case-link").click()
    page.wait_for_url("**/dashboard/cases/case-quiet")
    assert page.locator("#case-status").inner_text() == "cleared"
    assert "below the threshold for 7 days of event time" in page.locator("#cleared").inner_text()
    shot(page, "08-cleared-case")
    page.fill("#locked input[name=note]", "one card, same as a blocked case")
    page.click("#reopen-button")
    page.wait_for_url("**/dashboard/cases/case-quiet")
    assert page.locator("#case-status").inner_text() == "open"
    assert page.locator("#cleared").count() == 0

    page.goto(f"{live.url}/dashboard")
    listed = [rows.nth(i).get_attribute("data-case-id") for i in range(rows.count())]
    assert sorted(listed) == ["case-busy", "case-quiet"]
