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


def test_card_farms_of_one_operation_are_one_case_or_one_campaign() -> None:
    # Each farm of the hydra is linked by its own card; what ties the farms is the
    # operation's private scaffolding. They end as one case, or as cases opened apart
    # in the farms' first hours and grouped into one campaign as their clusters merge.
    customers = make_customers(seed=11, days=5)
    engine = Engine()
    engine.set_meta(pl.from_dicts(customers.accounts, schema=META_SCHEMA))
    engine.add(narrow(pl.from_dicts(customers.records, schema=RECORD_SCHEMA)))
    hydra = customers.of("hydra")
    every = {u.case_id: u for u in engine.advance(flush=True)}
    # No case mixes the hydra's accounts with anyone else's.
    assert all(
        set(u.account_records) <= hydra or not set(u.account_records) & hydra
        for u in every.values()
    )
    last = {case_id: u for case_id, u in every.items() if set(u.account_records) <= hydra}
    assert last, "no case"
    if len(last) > 1:
        # The latest campaign the engine reports holds every case (the store writes
        # it on each of them, as a case absorbed by another gets no update of its own).
        widest = max((u.campaign_cases for u in last.values()), key=len)
        assert widest == sorted(last)
    covered = set().union(*(set(u.account_records) for u in last.values()))
    assert covered == hydra
