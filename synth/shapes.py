"""A campaign's ``Shape``: card farms, address modes, timing, template pools, rates,
one client string, resold customer traffic, applied over the campaign's defaults.

Each step draws from a generator of its own (``World.rng(name + ".shape")``), so a
campaign whose shape is all defaults draws and writes exactly what it did before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synth.accounts import public_ipv4, same_prefix
from synth.honest import GENERAL_MIX, weekdays
from synth.populations import (
    FLAT,
    HUMAN,
    LOCKSTEP,
    TEMPLATE_POPULATION,
    WORK,
    Pivot,
    Population,
)
from synth.scenario import Shape
from synth.world import World

# A residential pool holds this many addresses per expected call (capped), so that
# nearly every call comes from an address the campaign has not used before.
_RESIDENTIAL_PER_CALL = 4
_RESIDENTIAL_MAX = 2_000_000
_TIMINGS = {"flat": FLAT, "lockstep": LOCKSTEP, "business": WORK}


def account_columns(
    w: World, name: str, index: int, shape: Shape, volume: int, columns: dict[str, Any]
) -> dict[str, Any]:
    """The campaign's account columns with the shape's payment, addresses, client
    string and time zone in place of its defaults."""
    if shape == Shape():
        return columns
    rng = w.rng(f"{name}.shape")
    n = len(np.atleast_1d(columns["country"]))
    out = dict(columns)
    if shape.farm_size > 0:
        farms = max(1, -(-n // shape.farm_size))
        space = (20 + index) << 32
        out["payment"] = space + rng.permutation(np.arange(n) % farms)
    if shape.ip_mode:
        out.update(_addresses(w, rng, shape.ip_mode, n, volume))
    if shape.user_agent >= 0:
        out["user_agent"] = shape.user_agent
    if shape.timing == "business":
        out["tz"] = shape.operator_tz
    return out


def _addresses(
    w: World, rng: np.random.Generator, mode: str, n: int, volume: int
) -> dict[str, Any]:
    if mode == "own":
        starts, counts = w.own_ips(rng, rng.integers(1, 5, n))
        pool = w.builder.ips[-1]
        return {
            "ip_start": starts,
            "ip_count": counts,
            "signup_ip": pool[starts - starts[0]],
        }
    if mode == "nat":
        pool = public_ipv4(rng, 1)
    elif mode == "datacenter":
        prefixes = public_ipv4(rng, int(rng.integers(2, 5)))
        pool = same_prefix(rng, prefixes, max(8, n // 4))
    else:  # residential
        size = int(np.clip(volume * _RESIDENTIAL_PER_CALL, 1_000, _RESIDENTIAL_MAX))
        pool = public_ipv4(rng, size)
    start = w.builder.add_ips(pool)
    return {
        "ip_start": start,
        "ip_count": len(pool),
        "signup_ip": pool[rng.integers(0, len(pool), n)],
    }


def population(w: World, shape: Shape, pop: Population, index: int) -> Population:
    """The campaign's population with the shape's timing, templates and rates."""
    if shape == Shape():
        return pop
    rng = w.rng(f"{pop.name}.shape.population")
    if shape.timing:
        pop.timing = _TIMINGS[shape.timing]
        if shape.timing == "business":
            pop.activity = pop.activity * weekdays(w, 0.1)[None, :]
    if shape.templates > 0:
        pop.templates = TEMPLATE_POPULATION + index * 100_000 + np.arange(shape.templates)
    if shape.rate_orders > 0:
        spread = 10 ** rng.uniform(0, shape.rate_orders, len(pop.accounts))
        pop.activity = pop.activity * spread[:, None]
    return pop


def resale(shape: Shape, pop: Population) -> list[Population]:
    """Real customers' calls resold through the campaign's accounts, on their addresses:
    ``resale_share`` of every account's calls."""
    if shape.resale_share <= 0:
        return []
    return [
        Population(
            name=f"{pop.name}_resale",
            label=pop.label,
            kind="resale",
            volume=round(pop.volume * shape.resale_share / (1 - shape.resale_share)),
            accounts=pop.accounts,
            timing=HUMAN,
            mix=GENERAL_MIX,
            old_models=np.array([0.3, 0.5, 0.2]),
            pivot=Pivot(share=0.4, tau_days=5.0),
            no_system=0.4,
            row_timezones=True,
            user_agent_spread=0.3,
            activity=pop.activity,
        )
    ]
