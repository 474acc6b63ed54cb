"""Shared context while populations are built: scenario, seeded generators, pools."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from faker import Faker

from synth.accounts import AccountBuilder, public_ipv4
from synth.catalogue import COUNTRY_WEIGHTS, FREE_MAIL, USER_AGENT_WEIGHTS
from synth.scenario import DAY, Scenario

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_COMPANY_DOMAINS = 1_500
_EDU_DOMAINS = 300


@lru_cache(maxsize=4)
def email_domains(seed: int) -> tuple[str, ...]:
    """Free mail first, then company domains, then university domains (seeded Faker)."""
    fake = Faker()
    fake.seed_instance(seed)
    companies: set[str] = set()
    while len(companies) < _COMPANY_DOMAINS:
        companies.add(fake.domain_name())
    edu: set[str] = set()
    while len(edu) < _EDU_DOMAINS:
        edu.add(f"{fake.last_name().lower()}.edu")
        edu.add(f"uni-{fake.city().lower().replace(' ', '')}.edu")
    return (
        tuple(name for name, _ in FREE_MAIL)
        + tuple(sorted(companies)[:_COMPANY_DOMAINS])
        + tuple(sorted(edu)[:_EDU_DOMAINS])
    )


@dataclass
class World:
    """The scaled scenario and everything populations draw from while being built."""

    scenario: Scenario
    builder: AccountBuilder = field(default_factory=AccountBuilder)
    domains: list[str] = field(default_factory=list)
    proxy_start: int = 0
    proxy_count: int = 0
    proxy_ips: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, np.uint32))
    proxy_benign_cdf: F64 = field(default_factory=lambda: np.zeros(0))
    proxy_benign_ratio: float = 0.0  # benign / campaign volume on the proxy IPs

    def __post_init__(self) -> None:
        if not self.domains:
            self.domains = list(email_domains(self.scenario.seed))

    @property
    def days(self) -> int:
        return self.scenario.days

    @property
    def start(self) -> float:
        return self.scenario.start_epoch

    @property
    def end(self) -> float:
        return self.start + self.days * DAY

    def rng(self, name: str) -> np.random.Generator:
        """A generator of its own for each named part, so parts never shift each other."""
        return np.random.default_rng([self.scenario.seed, zlib.crc32(name.encode())])

    def countries(self, rng: np.random.Generator, n: int) -> I64:
        return rng.choice(len(COUNTRY_WEIGHTS), size=n, p=COUNTRY_WEIGHTS)

    def user_agents(self, rng: np.random.Generator, n: int) -> I64:
        return rng.choice(len(USER_AGENT_WEIGHTS), size=n, p=USER_AGENT_WEIGHTS)

    def emails(
        self, rng: np.random.Generator, n: int, free: float, company: float, edu: float
    ) -> I64:
        """Indices into ``domains``: free mail by popularity, company or university domains."""
        free_w = np.array([w for _, w in FREE_MAIL])
        n_free = len(FREE_MAIL)
        kind = rng.choice(3, size=n, p=np.array([free, company, edu]) / (free + company + edu))
        out = rng.choice(n_free, size=n, p=free_w / free_w.sum())
        out = np.where(kind == 1, n_free + rng.integers(0, _COMPANY_DOMAINS, n), out)
        edu_base = n_free + _COMPANY_DOMAINS
        return np.where(kind == 2, edu_base + rng.integers(0, _EDU_DOMAINS, n), out)

    def company_domain(self, rng: np.random.Generator, n: int) -> I64:
        return len(FREE_MAIL) + rng.integers(0, _COMPANY_DOMAINS, n)

    def edu_domain(self, rng: np.random.Generator, n: int) -> I64:
        return len(FREE_MAIL) + _COMPANY_DOMAINS + rng.integers(0, _EDU_DOMAINS, n)

    def own_ips(
        self, rng: np.random.Generator, counts: I64, pool: npt.NDArray[np.uint32] | None = None
    ) -> tuple[I64, I64]:
        """``counts[i]`` addresses for account i: fresh, or drawn from ``pool``.

        Returns each account's first index in the IP table and its count.
        """
        total = int(counts.sum())
        addresses = public_ipv4(rng, total) if pool is None else rng.choice(pool, size=total)
        return self.exact_ips(counts, addresses)

    def exact_ips(self, counts: I64, addresses: npt.NDArray[np.uint32]) -> tuple[I64, I64]:
        """Account i gets the next ``counts[i]`` of ``addresses``, in order."""
        first = self.builder.add_ips(addresses)
        starts = first + np.concatenate([[0], np.cumsum(counts)[:-1]])
        return starts.astype(np.int64), counts.astype(np.int64)

    def shared_ips(
        self, rng: np.random.Generator, groups: I64, per_group: int
    ) -> tuple[I64, I64, npt.NDArray[np.uint32]]:
        """``per_group`` fresh addresses per group, shared by all of the group's accounts
        (an office, a lab, a NAT). Also returns the addresses, group by group."""
        addresses = public_ipv4(rng, (int(groups.max()) + 1) * per_group)
        first = self.builder.add_ips(addresses)
        return first + groups * per_group, np.full(len(groups), per_group), addresses
