"""Honest traffic that looks suspicious (CAMPAIGNS.md): one builder per look-alike."""

from __future__ import annotations

import numpy as np

from synth.accounts import public_ipv4
from synth.honest import (
    AGENT_FRAMEWORK,
    BATCH_JOB,
    CODING_AGENT,
    COHORT,
    CORPORATE_NAT,
    ENTERPRISE,
    EVAL_HARNESS,
    FRAMEWORK_A,
    FRAMEWORK_B,
    GENERAL_MIX,
    independent,
    lifetimes,
    payments,
    tool_set_choice,
    weekdays,
)
from synth.populations import (
    BATCH,
    HUMAN,
    RUNS,
    SYSTEM_POPULATION,
    TEMPLATE_POPULATION,
    WORK,
    Pivot,
    Population,
    heavy_tail,
    mix,
    overlap,
)
from synth.scenario import DAY
from synth.world import World

QUICKSTART = TEMPLATE_POPULATION + AGENT_FRAMEWORK * 100_000


def enterprise(w: World) -> Population:
    """Coding-agent users of one organisation: heavy tool use, high cache reuse."""
    h = w.scenario.honest
    rng = w.rng("enterprise")
    per_org = rng.integers(
        h.enterprise_accounts_min, h.enterprise_accounts_max + 1, h.enterprise_orgs
    )
    n = int(per_org.sum())
    org = np.repeat(np.arange(h.enterprise_orgs), per_org)
    system_base = np.full(n, CODING_AGENT)
    if h.enterprise_internal_prompt > 0:
        # An internal system prompt of the organisation's own, shared by its accounts.
        internal = (
            w.rng("enterprise.internal").random(h.enterprise_orgs) < h.enterprise_internal_prompt
        )
        own_prompt = SYSTEM_POPULATION + ENTERPRISE * 100_000 + org
        system_base = np.where(internal[org], own_prompt, system_base)
    ip_start, ip_count, org_ips = w.shared_ips(rng, org, 2)
    org_weight = rng.lognormal(0, 0.8, h.enterprise_orgs)
    weight = org_weight[org] / per_org[org] * rng.uniform(0.5, 1.5, n)
    created = w.start - rng.uniform(30, 500, h.enterprise_orgs)[org] * DAY
    country = w.countries(rng, h.enterprise_orgs)[org]
    accounts = w.builder.add(
        ENTERPRISE,
        n,
        group=org,
        org=(1 << 33) + org,
        payment=(11 << 32) + org,
        email_domain=w.company_domain(rng, h.enterprise_orgs)[org],
        signup_ip=org_ips[org * 2],
        country=country,
        program=4,
        created_at=created,
        active_from=w.start,
        active_to=w.end,
        weight=weight,
        user_agent=rng.choice([0, 3], size=n),
        ip_start=ip_start,
        ip_count=ip_count,
        keys=rng.integers(1, 4, n),
        stream=0.95,
        cache_rate=rng.uniform(h.enterprise_cache_low, h.enterprise_cache_high, n),
        classified=rng.random(h.enterprise_orgs)[org] < w.scenario.content_flag_share,
        tool_set=rng.choice([0, 1], size=n, p=[0.7, 0.3]),
        channel=rng.choice(3, size=h.enterprise_orgs, p=[0.6, 0.25, 0.15])[org],
        system_count=1,
        system_base=system_base,
    )
    activity = np.ones((n, w.days)) * weight[:, None] * weekdays(w, 0.12)[None, :]
    return Population(
        name="enterprise",
        label="honest",
        kind="enterprise_coding_agent",
        volume=h.enterprise_volume,
        accounts=accounts,
        timing=WORK,
        mix=mix(agentic_coding=0.55, coding=0.2, tool_use=0.1, chat=0.1, data_analysis=0.05),
        old_models=np.array([0.55, 0.45, 0.0]),
        pivot=Pivot(share=0.6, tau_days=2.0, delay_days=2.0),
        template_fresh=0.85,
        org_share=h.enterprise_org_id_share,
        activity=activity,
    )


def eval_harness(w: World) -> Population:
    """Evaluation harnesses: a finite item set replayed in bounded runs, on new models at once."""
    h = w.scenario.honest
    rng = w.rng("eval")
    harnesses = h.eval_harnesses
    second = rng.random(harnesses) < 0.4
    harness = np.concatenate([np.arange(harnesses), np.flatnonzero(second)])
    n = len(harness)
    ip_start, ip_count, ips = w.shared_ips(rng, harness, 2)
    accounts = w.builder.add(
        EVAL_HARNESS,
        n,
        group=harness,
        org=(2 << 33) + harness,
        payment=(12 << 32) + harness,
        email_domain=w.company_domain(rng, harnesses)[harness],
        signup_ip=ips[harness * 2],
        country=w.countries(rng, harnesses)[harness],
        program=rng.choice([3, 4], size=harnesses)[harness],
        created_at=w.start - rng.uniform(30, 400, n) * DAY,
        active_from=w.start,
        active_to=w.end,
        weight=1.0,
        user_agent=rng.choice([0, 7], size=harnesses)[harness],
        ip_start=ip_start,
        ip_count=ip_count,
        stream=0.0,
        cache_rate=rng.uniform(0.1, 0.4, n),
        classified=rng.random(harnesses)[harness] < w.scenario.content_flag_share,
        tool_set=tool_set_choice(rng, harnesses, popular=0.5)[harness],
        system_count=1,
        system_base=SYSTEM_POPULATION + EVAL_HARNESS * 100_000 + harness,
        template_count=3,
        template_base=TEMPLATE_POPULATION + EVAL_HARNESS * 100_000 + harness * 10,
    )
    # Runs on about one day in four, and on every harness the day after a release.
    runs = rng.random((n, w.days)) < 0.25
    after_release = int(w.scenario.release_day) + 1
    if after_release < w.days:
        runs[:, after_release] = True
    return Population(
        name="eval_harness",
        label="honest",
        kind="evaluation_harness",
        volume=h.eval_volume,
        accounts=accounts,
        timing=RUNS,
        mix=mix(reasoning=0.3, rubric_grading=0.25, cot_elicitation=0.15, coding=0.2, chat=0.1),
        old_models=np.array([0.5, 0.4, 0.1]),
        pivot=Pivot(share=0.85, ramp_hours=1.0),
        template_fresh=0.0,
        items=h.eval_items,
        activity=runs * rng.uniform(0.5, 1.5, n)[:, None],
    )


def agent_framework(w: World) -> Population:
    """Users of two agent frameworks: one system prompt and tool schema across thousands."""
    h = w.scenario.honest
    rng = w.rng("framework")
    n = h.framework_users
    created, active_from, active_to = lifetimes(w, rng, n)
    weight = heavy_tail(rng, n)
    columns = independent(w, rng, n)
    framework_a = rng.random(n) < 0.7
    columns["tool_set"] = np.where(framework_a, 3, 2)
    own_client = columns["user_agent"]
    columns["user_agent"] = rng.choice([6, 0, 2], size=n, p=[0.4, 0.4, 0.2])
    columns["focus"] = -1
    if h.framework_sdk_share >= 0:
        # The framework's SDK string for most users, their own client for the others.
        sdk = w.rng("framework.sdk").random(n) < h.framework_sdk_share
        columns["user_agent"] = np.where(sdk, h.framework_user_agent, own_client)
    if h.framework_quickstart > 0:
        # Each framework's quick-start example: one template, run by many users now and then.
        columns["template_count"] = 1
        columns["template_base"] = QUICKSTART + np.where(framework_a, 0, 1)
    accounts = w.builder.add(
        AGENT_FRAMEWORK,
        n,
        group=np.where(framework_a, 0, 1),
        payment=payments(rng, n, 13, free=0.1),
        created_at=created,
        active_from=active_from,
        active_to=active_to,
        weight=weight,
        system_count=1,
        system_base=np.where(framework_a, FRAMEWORK_A, FRAMEWORK_B),
        **columns,
    )
    activity = overlap(w.days, w.start, active_from, active_to) * weight[:, None]
    return Population(
        name="agent_framework",
        label="honest",
        kind="agent_framework_user",
        volume=h.framework_volume,
        accounts=accounts,
        timing=HUMAN,
        mix=mix(tool_use=0.45, agentic_coding=0.25, chat=0.12, data_analysis=0.1, reasoning=0.08),
        old_models=np.array([0.3, 0.6, 0.1]),
        pivot=Pivot(share=0.35, tau_days=6.0),
        template_fresh=1.0 - h.framework_quickstart,
        activity=activity * weekdays(w, 0.6)[None, :],
    )


def cohorts(w: World) -> Population:
    """Hackathon / course cohorts: a sign-up burst on a campus NAT, fading within days."""
    h = w.scenario.honest
    rng = w.rng("cohort")
    c, size = h.cohorts, h.cohort_size
    n = c * size
    cohort = np.repeat(np.arange(c), size)
    starts_day = np.linspace(2, max(3, w.days - 10), c) + rng.uniform(0, 1, c)
    start = w.start + np.floor(starts_day)[cohort] * DAY + 9 * 3600
    nat = public_ipv4(rng, c * 2)
    personal = public_ipv4(rng, n)
    pools = np.stack([nat[cohort * 2], nat[cohort * 2 + 1], personal], axis=1).ravel()
    ip_start, ip_count = w.exact_ips(np.full(n, 3), pools)
    accounts = w.builder.add(
        COHORT,
        n,
        group=cohort,
        payment=np.where(rng.random(n) < 0.8, -1, np.arange(n) + (14 << 32)),
        email_domain=w.edu_domain(rng, c)[cohort],
        signup_ip=nat[cohort * 2],
        country=w.countries(rng, c)[cohort],
        program=1,
        verified=rng.random(n) < 0.5,
        created_at=start + rng.uniform(0, 2 * 3600, n),
        active_from=start,
        active_to=start + 14 * DAY,
        weight=rng.lognormal(0, 0.7, n),
        user_agent=rng.choice([0, 2, 1], size=n),
        ip_start=ip_start,
        ip_count=ip_count,
        stream=rng.uniform(0, 1, n),
        classified=rng.random(c)[cohort] < w.scenario.content_flag_share,
        tool_set=tool_set_choice(rng, n, popular=0.7),
        system_count=1,
        system_base=SYSTEM_POPULATION + COHORT * 100_000 + cohort,
        template_count=3,
        template_base=TEMPLATE_POPULATION + COHORT * 100_000 + cohort * 10,
    )
    age = (w.start + (np.arange(w.days) + 0.5) * DAY)[None, :] - start[:, None]
    decay = np.exp(-np.maximum(age, 0) / (1.5 * DAY))
    activity = overlap(w.days, w.start, start, start + 14 * DAY) * decay
    return Population(
        name="cohort",
        label="honest",
        kind="hackathon_cohort",
        volume=h.cohort_volume,
        accounts=accounts,
        timing=HUMAN,
        mix=mix(chat=0.4, coding=0.35, tool_use=0.1, vision=0.05, data_analysis=0.1),
        old_models=np.array([0.2, 0.6, 0.2]),
        pivot=Pivot(share=0.3, tau_days=3.0),
        no_system=0.4,
        tutorial_decay_days=1.0,
        cohort_start=start,
        activity=activity * rng.lognormal(0, 0.7, n)[:, None],
    )


def corporate_nat(w: World) -> Population:
    """Many users behind one address or key: corporate gateways and declared resellers."""
    h = w.scenario.honest
    rng = w.rng("nat")
    orgs = h.nat_orgs
    per_org = rng.integers(1, 4, orgs)
    n = int(per_org.sum())
    org = np.repeat(np.arange(orgs), per_org)
    ip_start, ip_count, nat = w.shared_ips(rng, org, 2)
    users = np.maximum(20, rng.lognormal(6.5, 0.8, orgs).astype(np.int64))
    weight = rng.lognormal(0, 0.8, orgs)[org]
    accounts = w.builder.add(
        CORPORATE_NAT,
        n,
        group=org,
        org=(3 << 33) + org,
        payment=(15 << 32) + org,
        email_domain=w.company_domain(rng, orgs)[org],
        signup_ip=nat[org * 2],
        country=w.countries(rng, orgs)[org],
        program=rng.choice([0, 4], size=orgs)[org],
        created_at=w.start - rng.uniform(60, 600, orgs)[org] * DAY,
        active_from=w.start,
        active_to=w.end,
        weight=weight,
        user_agent=w.user_agents(rng, orgs)[org],
        ip_start=ip_start,
        ip_count=ip_count,
        keys=rng.integers(1, 5, n),
        end_users=users[org],
        stream=rng.uniform(0.3, 1, n),
        classified=rng.random(orgs)[org] < w.scenario.content_flag_share,
        tool_set=tool_set_choice(rng, n, popular=0.4),
        channel=rng.choice(3, size=orgs, p=[0.7, 0.2, 0.1])[org],
        system_count=5,
    )
    return Population(
        name="corporate_nat",
        label="honest",
        kind="corporate_nat",
        volume=h.nat_volume,
        accounts=accounts,
        timing=WORK,
        mix=GENERAL_MIX,
        old_models=np.array([0.3, 0.5, 0.2]),
        pivot=Pivot(share=0.4, tau_days=4.0),
        no_system=0.2,
        activity=np.ones((n, w.days)) * weight[:, None] * weekdays(w, 0.15)[None, :],
    )


def batch_jobs(w: World) -> Population:
    """Legitimate synthetic-data jobs: one account, batch channel, massive templated volume."""
    h = w.scenario.honest
    rng = w.rng("batch")
    n = h.batch_jobs
    ip_start, ip_count = w.own_ips(rng, np.ones(n, dtype=np.int64))
    accounts = w.builder.add(
        BATCH_JOB,
        n,
        payment=np.arange(n) + (16 << 32),
        email_domain=w.company_domain(rng, n),
        signup_ip=w.builder.ips[-1],
        country=w.countries(rng, n),
        program=rng.choice([0, 2, 4], size=n),
        created_at=w.start - rng.uniform(10, 300, n) * DAY,
        active_from=w.start,
        active_to=w.end,
        weight=rng.lognormal(0, 0.6, n),
        user_agent=0,
        ip_start=ip_start,
        ip_count=ip_count,
        stream=0.0,
        cache_rate=rng.uniform(0.3, 0.7, n),
        classified=rng.random(n) < w.scenario.content_flag_share,
        channel=3,
        system_count=1,
        template_count=1,
    )
    # One or two jobs each, running a few consecutive days.
    activity = np.zeros((n, w.days))
    for _ in range(2):
        first = rng.integers(0, max(1, w.days - 3), n)
        length = rng.integers(2, 9, n)
        d = np.arange(w.days)[None, :]
        activity += (d >= first[:, None]) & (d < (first + length)[:, None])
    return Population(
        name="batch_job",
        label="honest",
        kind="batch_job",
        volume=h.batch_volume,
        accounts=accounts,
        timing=BATCH,
        mix=mix(synthetic_data=0.75, chat=0.1, data_analysis=0.15),
        old_models=np.array([0.2, 0.5, 0.3]),
        pivot=Pivot(share=0.3, tau_days=10.0),
        template_fresh=0.02,
        error_rate=0.003,
        activity=activity * rng.lognormal(0, 0.6, n)[:, None],
    )
