"""The proxy network's real customers, whose traffic shares the hydra's addresses."""

from __future__ import annotations

import numpy as np

from synth.honest import GENERAL_MIX, PROXY_CUSTOMER, independent, lifetimes, payments
from synth.populations import HUMAN, Pivot, Population, heavy_tail, overlap
from synth.world import World


def proxy_customers(w: World, campaign_volume: int, campaign: Population) -> list[Population]:
    """The proxy's real customers: their own accounts over its IPs, and resale traffic
    sent through the hydra's accounts. Together they make each proxy IP's benign share."""
    h = w.scenario.honest
    rng = w.rng("proxy_customers")
    benign = campaign_volume * w.proxy_benign_ratio
    resale = round(benign * h.resale_in_campaign_accounts)
    n = h.proxy_customers
    created, active_from, active_to = lifetimes(w, rng, n)
    weight = heavy_tail(rng, n)
    columns = independent(w, rng, n)
    columns.update(
        ip_start=w.proxy_start,
        ip_count=w.proxy_count,
        signup_ip=w.proxy_ips[rng.integers(0, w.proxy_count, n)],
    )
    accounts = w.builder.add(
        PROXY_CUSTOMER,
        n,
        payment=payments(rng, n, 17, free=0.1),
        created_at=created,
        active_from=active_from,
        active_to=active_to,
        weight=weight,
        system_count=rng.choice(3, size=n),
        **columns,
    )
    # Benign traffic follows the campaign's days so each IP's share holds day by day.
    campaign_days = campaign.activity.sum(axis=0)
    customers = overlap(w.days, w.start, active_from, active_to) * weight[:, None]
    customers *= (campaign_days / np.maximum(customers.sum(axis=0), 1e-9))[None, :]
    shared = {
        "label": "honest",
        "timing": HUMAN,
        "mix": GENERAL_MIX,
        "old_models": np.array([0.3, 0.5, 0.2]),
        "pivot": Pivot(share=0.4, tau_days=5.0),
        "ip_mode": "proxy_benign",
        "proxy_cdf": w.proxy_benign_cdf,
        "no_system": 0.4,
    }
    own = Population(
        name="proxy_customer",
        kind="proxy_customer",
        volume=round(benign) - resale,
        accounts=accounts,
        focus_share=0.5,
        activity=customers,
        **shared,  # type: ignore[arg-type]
    )
    shared["label"] = campaign.label
    through_hydra = Population(
        name="proxy_resale",
        kind="resale",
        volume=resale,
        accounts=campaign.accounts,
        row_timezones=True,
        user_agent_spread=0.3,
        activity=campaign.activity,
        **shared,  # type: ignore[arg-type]
    )
    return [own, through_hydra]
