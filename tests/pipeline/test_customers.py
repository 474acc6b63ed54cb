"""Customer shapes synth does not draw, replayed through the real ingest path and the
pipeline: none of the honest ones becomes a case, and the hydra operation does."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select

from detector.config import Settings
from detector.pipeline.runner import PipelineRunner
from detector.store.pipeline_models import CaseAccountRow
from tests.pipeline.customers import Customers, make_customers
from tests.pipeline.traffic import Traffic
from tests.support.server import serve_in_thread


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
    make_settings: Callable[..., Settings],
) -> None:
    ingest(Traffic(records=customers.records, accounts=customers.accounts), 5_000)
    PipelineRunner(db=engine).run_until_idle(flush=True)
    cases = flagged(engine)
    in_cases = set().union(*cases.values()) if cases else set()
    for kind in ("honest", "framework", "enterprise", "reseller", "reseller_user", "company"):
        assert not in_cases & customers.of(kind), f"{kind} accounts in cases"
    hydra = customers.of("hydra")
    assert len(in_cases & hydra) >= 0.95 * len(hydra)
    # The extraction inside the reseller's account: its end users, and only they.
    thieves = customers.of("reseller_campaign")
    assert len(in_cases & thieves) >= 0.95 * len(thieves)
    hydra_cases = {c for c, accounts in cases.items() if accounts & hydra}
    assert all(cases[c] <= hydra for c in hydra_cases)
    (reseller_case,) = [c for c in cases if c not in hydra_cases]
    assert cases[reseller_case] <= thieves

    # Served once the pipeline has run, without a pipeline of its own.
    with (
        serve_in_thread(make_settings(pipeline_embedded=False)) as server,
        server.client() as client,
    ):
        # The card farms opened cases apart; a reviewer sees them as one campaign.
        items = client.get("/v1/cases", params={"status": "all"}).json()["items"]
        campaigns = {item["campaign_id"] for item in items if item["case_id"] in hydra_cases}
        if len(hydra_cases) > 1:
            assert len(campaigns) == 1 and None not in campaigns
            (campaign,) = campaigns
            listed = client.get("/v1/cases", params={"campaign": campaign, "status": "all"})
            assert sorted(i["case_id"] for i in listed.json()["items"]) == sorted(hydra_cases)
        # The reseller's case names the end users and the keys that carry it.
        detail = client.get(f"/v1/cases/{reseller_case}").json()
        assert all(a.startswith("resell-main › cust-") for a in detail["account_ids"])
        keys = {entry["value"] for entry in detail["shared"]["api_key"]}
        assert keys and keys <= {"key-0", "key-1", "key-2"}
