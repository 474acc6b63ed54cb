"""Customer shapes synth does not draw, replayed through the real ingest path and the
pipeline: none of the honest ones becomes a case, and the hydra operation does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from detector.pipeline.runner import PipelineRunner
from detector.store.pipeline_models import CaseAccountRow
from tests.pipeline.customers import Customers, make_customers
from tests.pipeline.traffic import Traffic
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def customers() -> Customers:
    return make_customers(seed=11, days=5)


def flagged(db: Engine) -> dict[str, set[str]]:
    with db.connect() as conn:
        rows = conn.execute(select(CaseAccountRow.case_id, CaseAccountRow.account_id)).all()
    out: dict[str, set[str]] = {}
    for case_id, account in rows:
        out.setdefault(case_id, set()).add(account)
    return out


@pytest.mark.db
def test_unseen_customer_shapes(
    engine: Engine,
    customers: Customers,
    ingest: Callable[[Traffic, int], None],
    server: LiveServer,
) -> None:
    ingest(Traffic(records=customers.records, accounts=customers.accounts), 5_000)
    PipelineRunner(db=engine).run_until_idle(flush=True)
    cases = flagged(engine)
    in_cases = set().union(*cases.values()) if cases else set()
    for kind in ("honest", "framework", "enterprise"):
        assert not in_cases & customers.of(kind), f"{kind} accounts in cases"
    hydra = customers.of("hydra")
    assert len(in_cases & hydra) >= 0.95 * len(hydra)
    # Every case it is in is made of it.
    assert all(accounts <= hydra for accounts in cases.values())

    # The card farms opened cases apart; a reviewer sees them as one campaign.
    with server.client() as client:
        items = client.get("/v1/cases", params={"status": "all"}).json()["items"]
        campaigns = {item["campaign_id"] for item in items}
        assert len(campaigns) == 1 and None not in campaigns
        (campaign,) = campaigns
        listed = client.get("/v1/cases", params={"campaign": campaign, "status": "all"})
        assert sorted(i["case_id"] for i in listed.json()["items"]) == sorted(cases)
        detail = client.get(f"/v1/cases/{campaign}").json()
        assert detail["campaign_cases"] == sorted(cases)
