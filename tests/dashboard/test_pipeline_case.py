"""A case the real pipeline opened, as a reviewer sees it: the evidence the pipeline
wrote renders on the case page, and blocking it lists exactly the campaign's accounts."""

from __future__ import annotations

import httpx
import pytest

from tests.dashboard.conftest import csrf_of
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import make_traffic
from tests.support.server import LiveServer

pytestmark = [pytest.mark.db, pytest.mark.slow]

NDJSON = {"Content-Type": "application/x-ndjson"}


def test_a_pipeline_case_renders_and_its_block_reaches_the_blocklist(
    live: LiveServer, browser_client: httpx.Client
) -> None:
    traffic = make_traffic(seed=1, hours=48, honest=40, campaign=12)
    with live.client() as api:
        api.post("/v1/accounts", content=ndjson(traffic.accounts), headers=NDJSON)
        for start in range(0, len(traffic.records), 8000):
            batch = traffic.records[start : start + 8000]
            api.post("/v1/records", content=ndjson(batch), headers=NDJSON).raise_for_status()
        api.post("/v1/pipeline/flush").raise_for_status()

        queue = browser_client.get("/dashboard").text
        assert queue.count('class="case-row"') == 1
        case_id = queue.split('data-case-id="', 1)[1].split('"', 1)[0]
        page = browser_client.get(f"/dashboard/cases/{case_id}")
        assert page.status_code == 200
        assert "12 of its 12 accounts share 3 payment instruments" in page.text
        assert "Payment instruments" in page.text and "pay-c1" in page.text
        assert page.text.count('<svg class="chart"') == 3
        for account in traffic.campaign:
            assert account in page.text

        answer = browser_client.post(
            f"/dashboard/cases/{case_id}/decisions",
            data={"action": "block", "note": "campaign", "csrf_token": csrf_of(page.text)},
        )
        assert answer.status_code == 303
        blocked = {item["account_id"] for item in api.get("/v1/blocklist").json()["items"]}
    assert blocked == traffic.campaign
    assert 'class="case-row"' not in browser_client.get("/dashboard").text
