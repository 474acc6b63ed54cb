"""Populations: groups of accounts that share a row style (campaigns and look-alikes).

A population owns a block of accounts, a total volume, an expected activity per
account and day, and how its calls look: task mix, timing, prompts, models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from synth.catalogue import KIND_INDEX, KINDS

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# Timing modes (see synth.timing).
HUMAN, WORK, FLAT, LOCKSTEP, RUNS, BATCH = "human", "work", "flat", "lockstep", "runs", "batch"

# Code spaces: fingerprint codes of different origins never collide.
SYSTEM_PRODUCTS = 1 << 40  # system prompts of popular products, shared by many accounts
SYSTEM_POPULATION = 2 << 40  # a population's own shared system prompts
TEMPLATE_POPULATION = 3 << 40
ITEM_CODES = 4 << 40  # evaluation items, replayed as exact duplicates
FRESH = 5 << 40  # per-record fresh prompts


def mix(**shares: float) -> F64:
    """A task-kind distribution from ``kind=share`` pairs, normalised."""
    out = np.zeros(len(KINDS))
    for name, share in shares.items():
        out[KIND_INDEX[name]] = share
    normalised: F64 = out / out.sum()
    return normalised


@dataclass
class Pivot:
    """Share of a population's traffic on the new model, ``hours`` after the release.

    ``ramp_hours`` > 0: a deliberate switch that reaches ``share`` within that many
    hours; otherwise a gradual adoption with time constant ``tau_days`` after ``delay_days``.
    """

    share: float
    ramp_hours: float = 0.0
    tau_days: float = 5.0
    delay_days: float = 0.0

    def new_share(self, hours_since_release: F64) -> F64:
        h = np.maximum(hours_since_release, 0.0)
        if self.ramp_hours > 0:
            return self.share * np.minimum(h / self.ramp_hours, 1.0)
        days = np.maximum(h / 24.0 - self.delay_days, 0.0)
        return self.share * (1.0 - np.exp(-days / self.tau_days))


@dataclass
class Population:
    """Accounts that share a row style; ``accounts`` are global account numbers."""

    name: str
    label: str  # ground truth: a campaign's name, or "honest"
    kind: str  # look-alike kind, "campaign", "resale" or "general"
    volume: int
    accounts: I64
    timing: str
    mix: F64
    old_models: F64
    pivot: Pivot
    # After ``phase2_at`` (epoch seconds) the mix becomes ``mix2``.
    mix2: F64 | None = None
    phase2_at: float = float("inf")
    focus_share: float = 0.0
    # Shared system prompts and templates: codes with their weights; the account's
    # own ones are used where the population has none or ``own_*`` says so.
    systems: I64 | None = None
    systems2: I64 | None = None
    no_system: float = 0.0
    templates: I64 | None = None
    templates2: I64 | None = None
    template_fresh: float = 1.0
    items: int = 0  # finite item set replayed as exact duplicates (evaluation harnesses)
    tutorial_decay_days: float = 0.0  # cohorts: tutorial prompts fade with age
    cohort_start: F64 | None = None  # per account: when its cohort started (epoch)
    error_rate: float = 0.006
    thinking_always: bool = False  # extended thinking on for every call
    lockstep_rate: float = 1.5  # LOCKSTEP: calls per account in each busy minute
    # IP choice: "own" (uniform over the account's pool; a hydra account's pool is the
    # whole proxy network) or "proxy_benign" (the proxy pool weighted by each IP's
    # benign share).
    ip_mode: str = "own"
    proxy_cdf: F64 | None = None  # proxy_benign: cumulative weights over the proxy pool
    row_timezones: bool = False  # requests of many customers: time zone per request
    user_agent_spread: float = 0.0  # share of rows whose client string is not the account's
    org_share: float = 1.0  # share of rows that carry the account's org_id
    # Expected activity per account and day, relative within the population.
    activity: F64 = field(default_factory=lambda: np.zeros((0, 0)))


def overlap(days: int, start_epoch: float, begin: F64, end: F64) -> F64:
    """Fraction of each day (columns) inside each account's [begin, end) (rows)."""
    d = np.arange(days, dtype=np.float64)
    lo = (begin - start_epoch)[:, None] / 86_400.0
    hi = (end - start_epoch)[:, None] / 86_400.0
    inside: F64 = np.clip(np.minimum(hi, d[None, :] + 1) - np.maximum(lo, d[None, :]), 0, 1)
    return inside


def weekday_factor(days: int, start_weekday: int, weekend: float) -> F64:
    """1 on weekdays, ``weekend`` on Saturdays and Sundays."""
    wd = (start_weekday + np.arange(days)) % 7
    return np.where(wd >= 5, weekend, 1.0)


def heavy_tail(rng: np.random.Generator, n: int, alpha: float = 1.3) -> F64:
    """Pareto-distributed weights: most accounts small, a few very large."""
    return (rng.pareto(alpha, n) + 1.0).clip(max=5_000.0)
