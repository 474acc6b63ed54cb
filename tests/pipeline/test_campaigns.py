"""Cases opened apart for one operation are grouped into one campaign."""

from __future__ import annotations

import polars as pl

from detector.features.frames import RECORD_SCHEMA, narrow
from detector.pipeline.cases import Campaigns
from detector.pipeline.engine import META_SCHEMA, Engine
from tests.pipeline.customers import make_customers


def test_campaigns_join_transitively_under_the_oldest_id() -> None:
    campaigns = Campaigns()
    campaigns.join(["C000003", "C000004"])
    campaigns.join(["C000002"])
    assert campaigns.members("C000002") == ["C000002"]
    campaigns.join(["C000004", "C000001"])
    assert campaigns.members("C000003") == ["C000001", "C000003", "C000004"]
    assert campaigns.root("C000004") == "C000001"


def test_card_farms_of_one_operation_are_one_campaign() -> None:
    # Each farm of the hydra opens its own case in its first hours (its card links it);
    # their clusters merge as the operation's templates accumulate.
    customers = make_customers(seed=11, days=5)
    engine = Engine()
    engine.set_meta(pl.from_dicts(customers.accounts, schema=META_SCHEMA))
    engine.add(narrow(pl.from_dicts(customers.records, schema=RECORD_SCHEMA)))
    last = {u.case_id: u for u in engine.advance(flush=True)}
    hydra = customers.of("hydra")
    grouped = [u for u in last.values() if u.campaign_id is not None]
    assert grouped, "no campaign"
    campaign = grouped[0].campaign_cases
    assert sorted(last) == campaign
    covered = set().union(*(set(last[c].account_records) for c in campaign))
    assert covered == hydra
