"""The plan of a run: accounts, populations and exact daily volumes, without any rows.

Building the plan at scale 1.0 takes seconds, so the volumes of a full scenario can
be checked without generating 40 million records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from synth import campaigns, honest, lookalikes, proxy, resellers, shapes
from synth.accounts import AccountTable
from synth.populations import Population
from synth.scenario import Scenario
from synth.world import World

I64 = npt.NDArray[np.int64]


def apportion(total: int, weights: npt.NDArray[np.float64]) -> I64:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder)."""
    out: I64 = np.zeros(len(weights), dtype=np.int64)
    if total <= 0 or weights.sum() <= 0:
        return out
    exact = weights / weights.sum() * total
    out = np.floor(exact).astype(np.int64)
    short = total - int(out.sum())
    if short:
        out[np.argsort(-(exact - out), kind="stable")[:short]] += 1
    return out


@dataclass
class Plan:
    """Everything that fixes a run except the rows themselves."""

    scenario: Scenario  # as given
    effective: Scenario  # scaled, floors applied
    accounts: AccountTable
    ips: npt.NDArray[np.uint32]
    domains: list[str]
    populations: list[Population]
    daily: I64  # rows per population (rows) and day (columns)

    @property
    def total(self) -> int:
        return int(self.daily.sum())

    def volumes(self) -> dict[str, int]:
        return {p.name: int(self.daily[i].sum()) for i, p in enumerate(self.populations)}

    def account_population(self) -> I64:
        """For each account, the population that owns it."""
        return self.accounts.population.astype(np.int64)


def build_plan(scenario: Scenario) -> Plan:
    """Accounts, populations and daily volumes of ``scenario``."""
    scenario.validate()
    effective = scenario.scaled()
    world = World(effective)
    minimax = campaigns.minimax(world)
    attacks = [minimax, campaigns.moonshot(world), campaigns.deepseek(world)]
    populations = list(attacks)
    populations += [
        honest.general(world),
        lookalikes.enterprise(world),
        lookalikes.eval_harness(world),
        lookalikes.agent_framework(world),
        lookalikes.cohorts(world),
        lookalikes.corporate_nat(world),
        lookalikes.batch_jobs(world),
    ]
    populations += proxy.proxy_customers(world, minimax.volume, minimax)
    # Last, so that the populations above keep their numbers (and their generators).
    for campaign in attacks:
        populations += shapes.resale(getattr(effective, campaign.name).shape, campaign)
    # Only drawn worlds have resellers; last again, so that nothing above moves.
    sellers = resellers.honest(world, len(populations))
    if sellers is not None:
        populations.append(sellers)
    table, ips = world.builder.build()
    for campaign in attacks:
        shape = getattr(effective, campaign.name).shape
        resellers.hide(world, table, shape, campaign, sellers)
    daily = np.stack([apportion(p.volume, p.activity.sum(axis=0)) for p in populations])
    return Plan(
        scenario=scenario,
        effective=effective,
        accounts=table,
        ips=ips,
        domains=world.domains,
        populations=populations,
        daily=daily,
    )
