"""Through the real pipeline: of two campaigns, the one that stops leaves the open
queue once its cluster is gone for the stretch of event time, and the one that goes
on stays open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from detector.pipeline.engine import EngineConfig
from detector.pipeline.runner import PipelineRunner
from detector.store.pipeline_models import CaseAccountRow, CaseRow
from detector.store.reviews import audit_trail
from tests.pipeline.traffic import Traffic, make_traffic

pytestmark = [pytest.mark.db, pytest.mark.slow]


def second_campaign(hours: int) -> Traffic:
    """Another 12-account campaign, on infrastructure of its own, for ``hours``."""
    source = make_traffic(seed=2, hours=hours, honest=0, campaign=12)
    out = Traffic()

    def moved(item: dict[str, Any]) -> dict[str, Any]:
        item = dict(item)
        item["account_id"] = "d" + item["account_id"][1:]
        for key in ("payment_fingerprint", "system_fingerprint", "template_fingerprint"):
            if item.get(key):
                item[key] = f"{item[key]}-b"
        if "event_id" in item:
            item["event_id"] = f"b-{item['event_id']}"
        if "client_ip" in item:
            item["client_ip"] = item["client_ip"].replace("203.0.", "198.18.")
            item["user_agent"] = "other-relay/2.1"
        return item

    out.records = [moved(r) for r in source.records]
    out.accounts = [moved(a) for a in source.accounts]
    out.campaign = {"d" + a[1:] for a in source.campaign}
    return out


def test_the_campaign_that_stops_is_cleared_and_the_other_stays_open(
    engine: Engine, ingest: Callable[[Traffic, int], None]
) -> None:
    going_on = make_traffic(seed=1, hours=60, honest=30, campaign=12)
    stopping = second_campaign(hours=18)
    both = Traffic(
        records=sorted(
            going_on.records + stopping.records, key=lambda r: (r["ts_start"], r["event_id"])
        ),
        accounts=going_on.accounts + stopping.accounts,
    )
    ingest(both, 20_000)
    # Accounts leave the active set a day after their last record, and a case clears
    # half a day after its cluster was last flagged: a stopped campaign is cleared
    # within two days of event time instead of three weeks.
    runner = PipelineRunner(db=engine, config=EngineConfig(active_days=1.0), clear_after_days=0.5)
    runner.run_until_idle(flush=True)

    with engine.connect() as conn:
        cases = conn.execute(select(CaseRow.case_id, CaseRow.status)).all()
        members = conn.execute(select(CaseAccountRow.case_id, CaseAccountRow.account_id)).all()
        by_case: dict[str, set[str]] = {}
        for case_id, account in members:
            by_case.setdefault(case_id, set()).add(account)
        status = dict(cases)
        stopped = [c for c, accounts in by_case.items() if accounts & stopping.campaign]
        going = [c for c, accounts in by_case.items() if accounts & going_on.campaign]
        trails = {case_id: audit_trail(conn, case_id=case_id) for case_id in status}
    assert stopped and going and not set(stopped) & set(going)
    assert {status[c] for c in stopped} == {"cleared"}
    assert {status[c] for c in going} == {"open"}
    for case_id in stopped:
        latest = trails[case_id][0]
        assert (latest.actor, latest.action) == ("pipeline", "clear")
        assert latest.note == "below the threshold for 0.5 days of event time"
