"""Declared resellers: one account calling for thousands of end users, and campaigns
that buy their access through one.

A reseller (sign-up program ``reseller``) runs a service of its own on top of the
API: its servers call from a few addresses, with its card and organisation, and tag
each call with the end user it serves (``end_user_id``). Its traffic is general
traffic of many people at once: every time zone, every kind of task, each end user's
own system prompts and tool schemas.

A campaign with ``shape.via_reseller`` is one of those end users, many times over: it
keeps its own behaviour (timing, prompts, task mix, tools), but every one of its
"accounts" exists only as an ``end_user_id`` of one honest reseller's account, on
that reseller's addresses, client, organisation and keys. Its accounts are not
registered (``accounts.ndjson`` leaves them out); ``truth.parquet`` keeps them, with
the reseller's account id and the end-user id they appear as (``synth.output``).
"""

from __future__ import annotations

import numpy as np

from synth.accounts import AccountTable
from synth.catalogue import PROGRAMS
from synth.honest import GENERAL_MIX, tool_set_choice, weekdays
from synth.populations import WORK, Pivot, Population
from synth.scenario import DAY, Shape
from synth.world import World

PROGRAM_RESELLER = PROGRAMS.index("reseller")
# End-user codes are ``account * END_USER_SPACE + n`` (``rows.complete``).
END_USER_SPACE = 1 << 20
# Clients a reseller's servers call with: the Python SDK, litellm, httpx, Go.
_SERVER_CLIENTS = np.array([0, 5, 7, 9])


def honest(w: World, index: int) -> Population | None:
    """The honest declared resellers, as population number ``index`` (None: none)."""
    h = w.scenario.honest
    if h.resellers < 1:
        return None
    rng = w.rng("resellers")
    n = h.resellers
    # Hundreds to thousands of end users each, around the world's mean.
    users = np.maximum(20, np.round(h.reseller_end_users * rng.uniform(0.4, 1.6, n)))
    weight = users * rng.lognormal(0, 0.3, n)
    ip_start, ip_count = w.own_ips(rng, rng.integers(2, 7, n))
    accounts = w.builder.add(
        index,
        n,
        org=(4 << 33) + np.arange(n),
        payment=(18 << 32) + np.arange(n),
        email_domain=w.company_domain(rng, n),
        signup_ip=w.builder.ips[-1][ip_start - ip_start[0]],
        country=w.countries(rng, n),
        program=PROGRAM_RESELLER,
        verified=True,
        created_at=w.start - rng.uniform(90, 700, n) * DAY,
        active_from=w.start,
        active_to=w.end,
        weight=weight,
        user_agent=rng.choice(_SERVER_CLIENTS, size=n),
        ip_start=ip_start,
        ip_count=ip_count,
        keys=rng.integers(1, 5, n),
        end_users=users.astype(np.int64),
        stream=rng.uniform(0.4, 0.9, n),
        cache_rate=rng.uniform(0.05, 0.3, n),
        classified=rng.random(n) < w.scenario.content_flag_share,
        tool_set=tool_set_choice(rng, n, popular=0.5),
        customer_tools=True,
        channel=0,
    )
    return Population(
        name="reseller",
        label="honest",
        kind="reseller",
        volume=h.reseller_volume,
        accounts=accounts,
        # Many people's working days at once: each call in a customer's time zone.
        timing=WORK,
        row_timezones=True,
        user_agent_spread=0.1,
        mix=GENERAL_MIX,
        old_models=np.array([0.3, 0.5, 0.2]),
        pivot=Pivot(share=0.45, tau_days=3.0),
        no_system=0.3,
        activity=np.ones((n, w.days)) * weight[:, None] * weekdays(w, 0.6)[None, :],
    )


def hide(
    w: World,
    table: AccountTable,
    shape: Shape,
    campaign: Population,
    resellers: Population | None,
) -> None:
    """Put ``campaign``'s accounts behind one honest reseller, if its shape says so:
    each becomes an end user of the reseller's account (``via``, ``via_user``) and
    calls from the reseller's addresses, client, organisation, keys and channel."""
    if not shape.via_reseller:
        return
    if resellers is None:
        raise ValueError(f"{campaign.name}.shape.via_reseller: the world has no reseller")
    rng = w.rng(f"{campaign.name}.via_reseller")
    reseller = int(rng.choice(resellers.accounts))
    hidden = campaign.accounts
    # Numbered after the reseller's honest end users and any campaign already there.
    mine = table.via == reseller
    taken = int(table.end_users[reseller])
    if mine.any():
        taken = int(table.via_user[mine].max()) % END_USER_SPACE + 1
    if taken + len(hidden) > END_USER_SPACE:
        raise ValueError(f"{campaign.name}.shape.via_reseller: too many end users")
    table.via[hidden] = reseller
    table.via_user[hidden] = reseller * END_USER_SPACE + taken + np.arange(len(hidden))
    for column in ("org", "ip_start", "ip_count", "user_agent", "keys", "channel", "classified"):
        getattr(table, column)[hidden] = getattr(table, column)[reseller]


def registered(table: AccountTable) -> np.ndarray:
    """Which accounts are accounts of their own (not hidden behind a reseller)."""
    out: np.ndarray = table.via < 0
    return out
