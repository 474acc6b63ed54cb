"""The pipeline through the real HTTP API: ingest, flush, cases, late records."""

from __future__ import annotations

import pytest

from detector.config import Settings
from tests.pipeline.conftest import ndjson
from tests.pipeline.traffic import Traffic
from tests.support.server import LiveServer

NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.mark.db
@pytest.mark.slow
def test_campaign_becomes_one_case_with_its_evidence(server: LiveServer, traffic: Traffic) -> None:
    with server.client() as client:
        client.post("/v1/accounts", content=ndjson(traffic.accounts), headers=NDJSON)
        for start in range(0, len(traffic.records), 4000):
            batch = traffic.records[start : start + 4000]
            answer = client.post("/v1/records", content=ndjson(batch), headers=NDJSON).json()
            assert answer["accepted"] == len(batch)
        state = client.post("/v1/pipeline/flush").json()
        assert state["received"] == state["processed"] == len(traffic.records)
        assert state["pending"] == 0 and state["late"] == 0

        listing = client.get("/v1/cases", params={"status": "open"}).json()
        (summary,) = listing["items"]
        assert listing["next_cursor"] is None
        assert summary["account_count"] == len(traffic.campaign)
        # At the first tick: the traffic starts at midnight, windows are hourly.
        first_tick = f"2026-01-01T{Settings().pipeline_tick_windows:02d}:00:00"
        assert summary["opened_at"].startswith(first_tick)
        assert summary["score"] >= 0.7
        assert any(
            reason.startswith("12 of its 12 accounts share 3 payment instruments")
            for reason in summary["reasons"]
        )
        assert summary["capability_mix"]["cot_elicitation"] > 0.5

        case = client.get(f"/v1/cases/{summary['case_id']}").json()
        assert set(case["account_ids"]) == traffic.campaign
        payment = {item["value"] for item in case["shared"]["payment"]}
        assert payment == {"pay-c1", "pay-c2", "pay-c3"}
        # Each shared value says how common it is and who holds it.
        for item in case["shared"]["payment"]:
            assert item["platform_accounts"] >= item["accounts"] == len(item["account_ids"])
            assert set(item["account_ids"]) <= traffic.campaign
        # The score taken apart: signed terms that sum to its log-odds.
        terms = case["contributions"]
        assert terms[0]["name"] == "baseline" and terms[0]["direction"] == "lowers"
        assert {t["name"] for t in terms if t["direction"] == "raises"} >= set(case["signatures"])
        assert case["features"]["cluster_accounts"] == len(traffic.campaign)
        assert case["outcome"] is None
        if state["worker"] is not None:
            assert state["worker"]["expires"].endswith("+00:00")
        assert [day["day"] for day in case["timeline"]] == ["2026-01-01", "2026-01-02"]
        assert case["features"]["lockstep"] > 0.5

        # Records older than the closed windows are stored and counted as late.
        stale = [dict(r, event_id=f"late-{i}") for i, r in enumerate(traffic.records[:10])]
        client.post("/v1/records", content=ndjson(stale), headers=NDJSON)
        state = client.post("/v1/pipeline/flush").json()
        assert state["late"] == 10
        assert state["processed"] == state["received"] == len(traffic.records) + 10

        assert client.get("/v1/cases/C999999").status_code == 404
        bad = client.get("/v1/cases", params={"status": "shut"})
        assert bad.status_code == 422 and "status: 'shut'" in bad.text


@pytest.mark.db
def test_pipeline_state_needs_a_token(server: LiveServer) -> None:
    with server.client() as client:
        client.headers.pop("Authorization")
        assert client.get("/v1/pipeline").status_code == 401
        assert client.get("/v1/cases").status_code == 401
        assert client.post("/v1/pipeline/flush").status_code == 401
