"""The honest population: shared helpers, population numbers, and the general public."""

from __future__ import annotations

from typing import Any

import numpy as np

from synth.catalogue import POPULAR_TOOL_SETS
from synth.populations import (
    HUMAN,
    SYSTEM_PRODUCTS,
    Pivot,
    Population,
    heavy_tail,
    mix,
    overlap,
    weekday_factor,
)
from synth.scenario import DAY
from synth.tools import PRIVATE_TOOL_SETS
from synth.world import World

(
    GENERAL,
    ENTERPRISE,
    EVAL_HARNESS,
    AGENT_FRAMEWORK,
    COHORT,
    CORPORATE_NAT,
    BATCH_JOB,
    PROXY_CUSTOMER,
) = range(3, 11)

GENERAL_MIX = mix(
    chat=0.34,
    coding=0.2,
    agentic_coding=0.08,
    tool_use=0.08,
    data_analysis=0.07,
    computer_use=0.01,
    vision=0.06,
    reasoning=0.08,
    cot_elicitation=0.02,
    rubric_grading=0.02,
    safe_rewrite=0.01,
    synthetic_data=0.03,
)
# Products whose system prompt thousands of honest accounts send unchanged.
CODING_AGENT, FRAMEWORK_A, FRAMEWORK_B = SYSTEM_PRODUCTS, SYSTEM_PRODUCTS + 1, SYSTEM_PRODUCTS + 2


def weekdays(w: World, weekend: float) -> np.ndarray:
    start_weekday = int((w.start // DAY + 3) % 7)  # 1970-01-01 was a Thursday
    return weekday_factor(w.days, start_weekday, weekend)


def tool_set_choice(rng: np.random.Generator, n: int, popular: float) -> np.ndarray:
    """A popular schema (by popularity) or one of the private ones, per account."""
    weights = np.array([0.3, 0.2, 0.15, 0.08, 0.1, 0.07, 0.06, 0.04])
    chosen = rng.choice(len(POPULAR_TOOL_SETS), size=n, p=weights / weights.sum())
    private = len(POPULAR_TOOL_SETS) + rng.integers(0, PRIVATE_TOOL_SETS, n)
    return np.where(rng.random(n) < popular, chosen, private)


def payments(rng: np.random.Generator, n: int, space: int, free: float) -> np.ndarray:
    """Own instrument each, a few shared within households, some on free credits (-1)."""
    own = np.arange(n) + (space << 32)
    shared = rng.integers(0, n, n) + (space << 32)
    out = np.where(rng.random(n) < 0.03, shared, own)
    return np.where(rng.random(n) < free, -1, out)


def independent(w: World, rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Identity and client columns of independent honest accounts."""
    country = w.countries(rng, n)
    ip_start, ip_count = w.own_ips(rng, rng.integers(1, 4, n))
    return {
        "email_domain": w.emails(rng, n, free=0.6, company=0.35, edu=0.05),
        "signup_ip": w.builder.ips[-1][ip_start - ip_start[0]],
        "country": country,
        "program": rng.choice(4, size=n, p=[0.86, 0.05, 0.06, 0.03]),
        "verified": rng.random(n) < 0.7,
        "user_agent": w.user_agents(rng, n),
        "ip_start": ip_start,
        "ip_count": ip_count,
        "keys": rng.integers(1, 4, n),
        "stream": rng.uniform(0.0, 1.0, n),
        "cache_rate": rng.uniform(0.05, 0.5, n),
        "classified": rng.random(n) < w.scenario.content_flag_share,
        "tool_set": tool_set_choice(rng, n, popular=0.55),
        "channel": rng.choice(3, size=n, p=[0.85, 0.08, 0.07]),
        "focus": rng.choice(len(GENERAL_MIX), size=n, p=GENERAL_MIX),
    }


def lifetimes(w: World, rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Sign-up times (most before the span), first activity, and churn."""
    before = rng.random(n) < 0.8
    created = np.where(
        before, w.start - rng.uniform(1, 700, n) * DAY, w.start + rng.uniform(0, w.days, n) * DAY
    )
    active_from = np.maximum(created + rng.uniform(60, 3 * DAY, n) * ~before, w.start)
    churn = rng.random(n) < 0.15
    active_to = np.where(churn, active_from + rng.uniform(1, w.days, n) * DAY, w.end)
    return created, active_from, active_to


def general(w: World) -> Population:
    h = w.scenario.honest
    rng = w.rng("general")
    n = h.general_accounts
    created, active_from, active_to = lifetimes(w, rng, n)
    weight = heavy_tail(rng, n)
    columns = independent(w, rng, n)
    coder = rng.random(n) < 0.1
    accounts = w.builder.add(
        GENERAL,
        n,
        payment=payments(rng, n, 10, free=0.15),
        created_at=created,
        active_from=active_from,
        active_to=active_to,
        weight=weight,
        system_count=np.where(coder, 1, rng.choice(4, size=n, p=[0.3, 0.4, 0.2, 0.1])),
        system_base=np.where(coder, CODING_AGENT, 0),
        template_count=np.where(rng.random(n) < 0.4, rng.integers(1, 6, n), 0),
        **columns,
    )
    activity = overlap(w.days, w.start, active_from, active_to) * weight[:, None]
    return Population(
        name="general",
        label="honest",
        kind="general",
        volume=h.general_volume,
        accounts=accounts,
        timing=HUMAN,
        mix=GENERAL_MIX,
        focus_share=0.5,
        old_models=np.array([0.3, 0.5, 0.2]),
        pivot=Pivot(share=0.4, tau_days=5.0),
        no_system=0.3,
        template_fresh=0.5,
        activity=activity * weekdays(w, 0.55)[None, :],
    )
