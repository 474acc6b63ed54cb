"""A case of a campaign links the other cases of it on its page."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.dashboard.seeding import seed_case

pytestmark = pytest.mark.db


def test_the_case_page_links_the_other_cases_of_its_campaign(
    seeded: Callable[..., None], browser_client: httpx.Client
) -> None:
    seeded(seed_case, "C000001", score=0.9, account_ids=["a1", "a2"], campaign_id="C000001")
    seeded(seed_case, "C000004", score=0.95, account_ids=["d1", "d2"], campaign_id="C000001")
    seeded(seed_case, "C000002", score=0.8, account_ids=["z1", "z2"])
    page = browser_client.get("/dashboard/cases/C000004").text
    assert 'id="campaign"' in page
    assert 'href="/dashboard/cases/C000001"' in page
    assert 'href="/dashboard/cases/C000004"' not in page.split('id="campaign"')[1].split("</p>")[0]
    assert "behind all 2" in page
    alone = browser_client.get("/dashboard/cases/C000002").text
    assert 'id="campaign"' not in alone
