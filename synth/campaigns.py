"""The three campaigns of CAMPAIGNS.md, as populations.

Each builder adds its accounts to the world and returns its populations. Values
that the campaigns share with honest traffic (client strings, tool schemas, e-mail
domains, countries) are drawn from the same catalogues as honest accounts.
"""

from __future__ import annotations

import numpy as np

from synth import shapes
from synth.accounts import public_ipv4, same_prefix
from synth.catalogue import COMMON_USER_AGENT
from synth.populations import (
    FLAT,
    LOCKSTEP,
    SYSTEM_POPULATION,
    TEMPLATE_POPULATION,
    Pivot,
    Population,
    mix,
    overlap,
)
from synth.scenario import DAY
from synth.world import World

MINIMAX, MOONSHOT, DEEPSEEK = 0, 1, 2

# MiniMax-like accounts offer one of these popular tool schemas (coding agents, an orchestrator).
MINIMAX_TOOL_SETS = np.array([0, 1, 3])
PROGRAM_STANDARD, PROGRAM_EDU, PROGRAM_STARTUP, PROGRAM_RESEARCH, PROGRAM_ENTERPRISE = range(5)


def _codes(base: int, population: int, n: int, offset: int = 0) -> np.ndarray:
    return base + population * 100_000 + offset + np.arange(n, dtype=np.int64)


def minimax(w: World) -> Population:
    """A hydra on a proxy network: accounts live ~10 days, replaced in sign-up bursts."""
    p = w.scenario.minimax
    rng = w.rng("minimax")
    n = p.accounts
    prefixes = public_ipv4(rng, max(3, p.proxy_ips // 24))
    w.proxy_ips = same_prefix(rng, prefixes, p.proxy_ips)
    w.proxy_start = w.builder.add_ips(w.proxy_ips)
    w.proxy_count = p.proxy_ips
    # Each proxy IP carries a share of real customers' traffic; benign rows pick IPs
    # with weight s/(1-s) against the campaign's uniform spread, so IP i sees share s_i.
    share = rng.uniform(p.benign_share_low, p.benign_share_high, p.proxy_ips)
    ratio = share / (1 - share)
    w.proxy_benign_cdf = np.cumsum(ratio) / ratio.sum()
    w.proxy_benign_ratio = float(ratio.mean())

    # Concurrent "seats", each a chain of accounts: a banned account is replaced.
    span = (p.end_day - p.start_day) * DAY
    seats = max(3, round(n * p.mean_lifetime_days * DAY / span))
    generations = -(-n // seats)
    life = rng.uniform(0.5, 1.5, (seats, generations))
    exists = (np.arange(seats)[:, None] + seats * np.arange(generations)[None, :]) < n
    life = np.where(exists, life, 0.0)
    life = life / life.sum(axis=1, keepdims=True) * span
    ends = np.cumsum(life, axis=1)
    begin = w.start + p.start_day * DAY + (ends - life)
    end = w.start + p.start_day * DAY + ends
    order = np.argsort(
        (np.arange(seats)[:, None] + seats * np.arange(generations)[None, :])[exists]
    )
    active_from = begin[exists][order]
    active_to = end[exists][order]
    # Replacements sign up in bursts a few hours before they are put to work.
    lead = rng.uniform(2 * 3600, 30 * 3600, n)
    burst = np.floor((active_from - lead - w.start) / (6 * 3600)) * 6 * 3600 + w.start
    created = burst + rng.uniform(0, 2400, n)
    country = w.countries(rng, n)
    columns = dict(
        payment=rng.integers(0, max(1, int(n * 0.8)), n) + (1 << 32),
        email_domain=w.emails(rng, n, free=0.7, company=0.15, edu=0.15),
        signup_ip=w.proxy_ips[rng.integers(0, p.proxy_ips, n)],
        country=country,
        program=rng.choice(4, size=n, p=[0.55, 0.25, 0.15, 0.05]),
        verified=rng.random(n) < 0.35,
        created_at=created,
        active_from=active_from,
        active_to=active_to,
        weight=rng.uniform(0.85, 1.15, n),
        user_agent=COMMON_USER_AGENT,
        ip_start=w.proxy_start,
        ip_count=p.proxy_ips,
        keys=rng.integers(1, 3, n),
        stream=0.9,
        cache_rate=rng.uniform(0.0, 0.05, n),
        classified=rng.random(n) < w.scenario.content_flag_share,
        tool_set=rng.choice(MINIMAX_TOOL_SETS, size=n, p=[0.5, 0.3, 0.2]),
        channel=rng.choice(3, size=n, p=[0.8, 0.1, 0.1]),
    )
    columns = shapes.account_columns(w, "minimax", MINIMAX, p.shape, p.volume, columns)
    accounts = w.builder.add(MINIMAX, n, **columns)
    rest = 1 - p.agentic_share
    pop = Population(
        name="minimax",
        label="minimax",
        kind="campaign",
        volume=p.volume,
        accounts=accounts,
        timing=FLAT,
        mix=mix(
            agentic_coding=p.agentic_share * 0.68,
            tool_use=p.agentic_share * 0.32,
            chat=rest * 0.3,
            coding=rest * 0.3,
            reasoning=rest * 0.2,
            data_analysis=rest * 0.2,
        ),
        old_models=np.array([0.75, 0.25, 0.0]),
        pivot=Pivot(share=p.pivot_share, ramp_hours=p.pivot_hours),
        systems=_codes(SYSTEM_POPULATION, MINIMAX, 4),
        templates=_codes(TEMPLATE_POPULATION, MINIMAX, 6),
        template_fresh=0.6,
        error_rate=0.01,
        activity=overlap(w.days, w.start, active_from, active_to)
        * rng.uniform(0.85, 1.15, n)[:, None],
    )
    return shapes.population(w, p.shape, pop, MINIMAX)


def moonshot(w: World) -> Population:
    """Hundreds of varied accounts over several access paths; reasoning extraction later."""
    p = w.scenario.moonshot
    rng = w.rng("moonshot")
    n = p.accounts
    span = (p.end_day - p.start_day) * DAY
    campaign_start = w.start + p.start_day * DAY
    active_from = campaign_start + rng.uniform(0, 0.3, n) * span
    active_to = np.minimum(active_from + rng.uniform(0.5, 1.0, n) * span, campaign_start + span)
    active_to = np.maximum(active_to, active_from + DAY)
    # 4k-11k exchanges each, averaging volume / accounts (5.7k at full scale); the
    # per-day weight spreads that total over the account's active days.
    mean = float(np.clip(p.volume / n, 4_100, 10_900))
    per_account = 4_000 + 7_000 * rng.beta(1.0, 7_000 / (mean - 4_000) - 1.0, n)
    activity = overlap(w.days, w.start, active_from, active_to)
    activity *= (per_account / np.maximum(activity.sum(axis=1), 1e-9))[:, None]
    prefixes = public_ipv4(rng, 40)
    ip_counts = rng.integers(1, 5, n)
    ip_start, ip_count = w.own_ips(rng, ip_counts, same_prefix(rng, prefixes, 400))
    group = rng.integers(0, n, n)  # small groups of accounts share a payment instrument
    payment = np.where(rng.random(n) < 0.2, group, np.arange(n)) + (2 << 32)
    columns = dict(
        payment=payment,
        email_domain=w.emails(rng, n, free=0.5, company=0.35, edu=0.15),
        signup_ip=w.builder.ips[-1][ip_start - ip_start[0]],
        country=w.countries(rng, n),
        program=rng.choice(5, size=n, p=[0.4, 0.15, 0.2, 0.15, 0.1]),
        verified=rng.random(n) < 0.6,
        created_at=active_from - rng.uniform(3_600, 20 * DAY, n),
        active_from=active_from,
        active_to=active_to,
        weight=1.0,
        user_agent=w.user_agents(rng, n),
        ip_start=ip_start,
        ip_count=ip_count,
        keys=rng.integers(1, 4, n),
        stream=rng.uniform(0.2, 0.9, n),
        cache_rate=rng.uniform(0.0, 0.15, n),
        classified=rng.random(n) < w.scenario.content_flag_share,
        tool_set=rng.choice([0, 2, 3, 5, 6, 7], size=n),
        channel=rng.choice(3, size=n, p=[0.45, 0.35, 0.2]),
    )
    columns = shapes.account_columns(w, "moonshot", MOONSHOT, p.shape, p.volume, columns)
    accounts = w.builder.add(MOONSHOT, n, **columns)
    phase1 = mix(
        reasoning=0.2,
        tool_use=0.15,
        coding=0.15,
        data_analysis=0.15,
        computer_use=0.2,
        vision=0.15,
    )
    phase2 = 0.45 * phase1 + 0.55 * mix(cot_elicitation=1.0)
    variations = p.system_variations
    pop = Population(
        name="moonshot",
        label="moonshot",
        kind="campaign",
        volume=p.volume,
        accounts=accounts,
        timing=FLAT,
        mix=phase1,
        mix2=phase2,
        phase2_at=w.start + p.phase2_day * DAY,
        old_models=np.array([0.6, 0.4, 0.0]),
        pivot=Pivot(share=0.3, tau_days=1.0),
        # A few system-prompt families, each arriving in many small variations.
        systems=_codes(SYSTEM_POPULATION, MOONSHOT, 3 * variations),
        systems2=_codes(SYSTEM_POPULATION, MOONSHOT, variations, offset=10_000),
        templates=_codes(TEMPLATE_POPULATION, MOONSHOT, 12),
        templates2=_codes(TEMPLATE_POPULATION, MOONSHOT, 3, offset=10_000),
        template_fresh=0.3,
        activity=activity,
    )
    return shapes.population(w, p.shape, pop, MOONSHOT)


def deepseek(w: World) -> Population:
    """A small, synchronised pool: shared cards, round-robin load balancing."""
    p = w.scenario.deepseek
    rng = w.rng("deepseek")
    n = p.accounts
    span = (p.end_day - p.start_day) * DAY
    campaign_start = w.start + p.start_day * DAY
    active_from = campaign_start + rng.uniform(0, 0.15, n) * span
    active_to = campaign_start + span - rng.uniform(0, 0.15, n) * span
    prefixes = public_ipv4(rng, 3)
    ip_start, ip_count = w.own_ips(rng, rng.integers(1, 3, n), same_prefix(rng, prefixes, 24))
    columns = dict(
        payment=rng.integers(0, p.payment_instruments, n) + (3 << 32),
        email_domain=w.emails(rng, n, free=0.8, company=0.2, edu=0.0),
        signup_ip=w.builder.ips[-1][ip_start - ip_start[0]],
        country=w.countries(rng, n),
        program=rng.choice([0, 2, 3], size=n, p=[0.5, 0.2, 0.3]),
        verified=rng.random(n) < 0.5,
        created_at=active_from - rng.uniform(3_600, 3 * DAY, n),
        active_from=active_from,
        active_to=active_to,
        weight=1.0,
        user_agent=1,
        ip_start=ip_start,
        ip_count=ip_count,
        stream=0.1,
        cache_rate=rng.uniform(0.0, 0.1, n),
        classified=rng.random(n) < w.scenario.content_flag_share,
    )
    columns = shapes.account_columns(w, "deepseek", DEEPSEEK, p.shape, p.volume, columns)
    accounts = w.builder.add(DEEPSEEK, n, **columns)
    pop = Population(
        name="deepseek",
        label="deepseek",
        kind="campaign",
        volume=p.volume,
        accounts=accounts,
        timing=LOCKSTEP,
        mix=mix(cot_elicitation=0.5, rubric_grading=0.3, safe_rewrite=0.2),
        old_models=np.array([1.0, 0.0, 0.0]),
        pivot=Pivot(share=0.0),
        systems=_codes(SYSTEM_POPULATION, DEEPSEEK, 2),
        templates=_codes(TEMPLATE_POPULATION, DEEPSEEK, 3),
        template_fresh=0.05,
        thinking_always=True,
        lockstep_rate=p.per_account_per_minute,
        activity=overlap(w.days, w.start, active_from, active_to),
    )
    return shapes.population(w, p.shape, pop, DEEPSEEK)
