"""The scenario: every parameter of a synthetic run, with the brief's numbers as defaults.

Volumes are exchanges at ``scale`` 1.0; ``Scenario.scaled`` multiplies them by the
scale and applies floors to account counts, so that a 1% run still holds every
campaign and every look-alike in recognisable numbers.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DAY = 86_400.0
DEFAULT_DAYS = 56
IP_MODES = ("", "own", "nat", "datacenter", "residential")
TIMINGS = ("", "flat", "lockstep", "business")


WORLD = {"world": True}


def world_field(default: Any, *, scaled: bool = False) -> Any:
    """A parameter that only drawn worlds (``synth.worlds``) set. At its default it is
    left out of ``Scenario.to_dict``, so the default scenario's document, and the
    run salt derived from it, stay as they were before the parameter existed; it is
    multiplied by the scale (floors applied) only where ``scaled`` says so."""
    return field(default=default, metadata={**WORLD, "scaled": scaled})


@dataclass(frozen=True)
class Shape:
    """How a campaign is run, beyond its own defaults. Zero or empty values keep the
    campaign's defaults; worlds draw the others."""

    # Accounts per payment instrument: card farms of this size (0: the campaign's own scheme).
    farm_size: int = 0
    # "own": a few addresses per account; "nat": one address for all; "datacenter": a
    # small pool in a few /24s shared by all; "residential": a fresh address on nearly
    # every call (a pool far larger than the calls).
    ip_mode: str = ""
    # Share of each account's calls that are a real customer's, resold through it.
    resale_share: float = 0.0
    # Size of the pool of templates the campaign's prompts come from.
    templates: int = 0
    # "flat" (24/7), "lockstep" (round-robin across accounts), "business" (office
    # hours of the operator's time zone, ``operator_tz`` hours east of UTC).
    timing: str = ""
    operator_tz: int = 0
    # Per-account rates spread over ``10 ** rate_orders`` (log-uniform).
    rate_orders: float = 0.0
    # One client string (index into ``catalogue.USER_AGENTS``) for every account.
    user_agent: int = -1
    # The campaign buys its access from one of the honest declared resellers
    # (``honest.resellers``): every campaign account is only an end user of that
    # reseller's account, calling from the reseller's servers, and is not an account
    # of its own (``synth.resellers``).
    via_reseller: bool = world_field(False)


@dataclass(frozen=True)
class MiniMax:
    """Hydra-style campaign on a proxy network, replacing banned accounts."""

    volume: int = 13_000_000
    accounts: int = 17_000
    start_day: float = 0.0
    end_day: float = 56.0
    mean_lifetime_days: float = 10.0
    proxy_ips: int = 600
    # Share of each proxy IP's traffic that comes from the reseller's real customers.
    benign_share_low: float = 0.2
    benign_share_high: float = 0.6
    pivot_share: float = 0.5
    pivot_hours: float = 6.0
    agentic_share: float = 0.88
    shape: Shape = field(default=Shape(), metadata=WORLD)


@dataclass(frozen=True)
class Moonshot:
    """Hundreds of varied accounts over several access paths, in two phases."""

    volume: int = 2_850_000
    accounts: int = 500
    start_day: float = 3.0
    end_day: float = 51.0
    phase2_day: float = 30.0
    system_variations: int = 40
    shape: Shape = field(default=Shape(), metadata=WORLD)


@dataclass(frozen=True)
class DeepSeek:
    """Few accounts, shared payment instruments, round-robin lockstep timing."""

    volume: int = 150_000
    accounts: int = 60
    start_day: float = 12.0
    end_day: float = 40.0
    payment_instruments: int = 4
    per_account_per_minute: float = 1.5
    shape: Shape = field(default=Shape(), metadata=WORLD)


@dataclass(frozen=True)
class Honest:
    """The background population and its look-alikes; volumes are totals at scale 1.0."""

    general_accounts: int = 45_000
    general_volume: int = 10_500_000
    enterprise_orgs: int = 40
    enterprise_volume: int = 2_500_000
    eval_harnesses: int = 8
    eval_items: int = 2_000
    eval_volume: int = 600_000
    framework_users: int = 4_000
    framework_volume: int = 2_500_000
    cohorts: int = 6
    cohort_size: int = 120
    cohort_volume: int = 200_000
    nat_orgs: int = 20
    nat_volume: int = 1_500_000
    batch_jobs: int = 10
    batch_volume: int = 1_500_000
    # The proxy's real customers; their volume follows from MiniMax's and the benign shares.
    proxy_customers: int = 4_000
    # Of the proxy's benign traffic, the share sent through the hydra's own accounts
    # (the rest comes from customers' own accounts over the same proxy IPs).
    resale_in_campaign_accounts: float = 0.4
    # Enterprises: accounts per organisation, the share of their records that carry
    # the organisation's id (always on its accounts), cache reuse, and the share of
    # organisations that send an internal system prompt of their own rather than a
    # coding agent's.
    enterprise_accounts_min: int = world_field(1)
    enterprise_accounts_max: int = world_field(4)
    enterprise_org_id_share: float = world_field(1.0)
    enterprise_cache_low: float = world_field(0.6)
    enterprise_cache_high: float = world_field(0.9)
    enterprise_internal_prompt: float = world_field(0.0)
    # Agent frameworks: the share of users whose client is the framework's SDK
    # (negative: a mix of three common clients), which SDK string, and the share of
    # calls that run the framework's quick-start example (one template per framework).
    framework_sdk_share: float = world_field(-1.0)
    framework_user_agent: int = world_field(6)
    framework_quickstart: float = world_field(0.0)
    # Declared resellers (sign-up program "reseller"): how many, their total volume,
    # and the mean number of end users each one calls for (``synth.resellers``).
    resellers: int = world_field(0)
    reseller_volume: int = world_field(0, scaled=True)
    reseller_end_users: int = world_field(0, scaled=True)


# Smallest account counts at any scale: below these a campaign or a look-alike
# stops looking like itself (a "cohort" of three, a hydra without replacements).
FLOORS: dict[str, int] = {
    "minimax.accounts": 60,
    "minimax.proxy_ips": 24,
    "moonshot.accounts": 40,
    "deepseek.accounts": 20,
    "deepseek.payment_instruments": 3,
    "honest.general_accounts": 400,
    "honest.enterprise_orgs": 3,
    "honest.eval_harnesses": 3,
    "honest.eval_items": 200,
    "honest.framework_users": 60,
    "honest.cohorts": 2,
    "honest.cohort_size": 20,
    "honest.nat_orgs": 3,
    "honest.batch_jobs": 2,
    "honest.proxy_customers": 60,
    "honest.reseller_end_users": 100,
}


@dataclass(frozen=True)
class Scenario:
    """All parameters of a run. Same scenario, same output, byte for byte."""

    seed: int = 20260223
    scale: float = 1.0
    days: int = DEFAULT_DAYS
    start: str = "2026-01-05T00:00:00Z"
    release_day: float = 35.0 + 17 / 24
    old_models: tuple[str, ...] = ("claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5")
    new_model: str = "claude-opus-4-6"
    # Accounts whose gateway runs a content classifier and sends ``content_flags``.
    content_flag_share: float = 0.3
    # Records that carry ``prompt_text`` (the server then derives their fingerprints).
    prompt_text_share: float = 0.0005
    # The world this scenario was drawn as (``synth.worlds``), or None.
    world: int | None = world_field(None)
    # Languages of prompt texts, with weights: campaigns' and honest traffic's.
    campaign_languages: tuple[tuple[str, float], ...] = world_field((("en", 1.0),))
    honest_languages: tuple[tuple[str, float], ...] = world_field((("en", 1.0),))
    minimax: MiniMax = field(default_factory=MiniMax)
    moonshot: Moonshot = field(default_factory=Moonshot)
    deepseek: DeepSeek = field(default_factory=DeepSeek)
    honest: Honest = field(default_factory=Honest)

    @property
    def start_epoch(self) -> float:
        return datetime.fromisoformat(self.start).astimezone(UTC).timestamp()

    @property
    def release_epoch(self) -> float:
        return self.start_epoch + self.release_day * DAY

    def span_share(self, name: str) -> float:
        """Share of a part's volume that falls inside ``days``.

        Volumes are given for the default 56-day span: a campaign keeps the part of
        its window inside the run, honest traffic keeps its daily rate.
        """
        if name == "honest":
            return self.days / DEFAULT_DAYS
        part = getattr(self, name)
        inside = min(part.end_day, self.days) - part.start_day
        return float(min(max(inside / (part.end_day - part.start_day), 0.0), 1.0))

    def scaled(self) -> Scenario:
        """Volumes times ``scale`` (and the span's share); account counts times ``scale``,
        but never under their floors."""
        parts: dict[str, Any] = {}
        for name in ("minimax", "moonshot", "deepseek", "honest"):
            part = getattr(self, name)
            changes: dict[str, int] = {}
            share = self.span_share(name)
            for f in dataclasses.fields(part):
                value = getattr(part, f.name)
                if not isinstance(value, int) or isinstance(value, bool):
                    continue
                if f.metadata and not f.metadata.get("scaled"):
                    continue
                if f.name.endswith("volume"):
                    changes[f.name] = round(value * self.scale * share)
                else:
                    floor = FLOORS.get(f"{name}.{f.name}", 1)
                    changes[f.name] = max(min(floor, value), round(value * self.scale))
            parts[name] = dataclasses.replace(part, **changes)
        return dataclasses.replace(self, scale=1.0, **parts)

    def validate(self) -> None:
        """Reject parameters that cannot describe a run, naming the field and the rule."""
        if self.days < 1:
            raise ValueError(f"days: {self.days} must be at least 1")
        if self.scale <= 0:
            raise ValueError(f"scale: {self.scale} must be positive")
        for name in ("minimax", "moonshot", "deepseek"):
            part = getattr(self, name)
            if not 0 <= part.start_day < part.end_day:
                raise ValueError(f"{name}.start_day: must be >= 0 and before end_day")
        if not 0 < self.minimax.benign_share_low <= self.minimax.benign_share_high < 1:
            raise ValueError("minimax.benign_share_low/high: need 0 < low <= high < 1")
        for share in ("content_flag_share", "prompt_text_share"):
            if not 0 <= getattr(self, share) <= 1:
                raise ValueError(f"{share}: {getattr(self, share)} must be within 0..1")
        for name in ("minimax", "moonshot", "deepseek"):
            shape = getattr(self, name).shape
            if shape.ip_mode not in IP_MODES:
                raise ValueError(
                    f"{name}.shape.ip_mode: {shape.ip_mode!r} is not one of {IP_MODES}"
                )
            if shape.timing not in TIMINGS:
                raise ValueError(f"{name}.shape.timing: {shape.timing!r} is not one of {TIMINGS}")
            if not 0 <= shape.resale_share < 1:
                raise ValueError(f"{name}.shape.resale_share: {shape.resale_share} not in [0, 1)")
        h = self.honest
        if not 1 <= h.enterprise_accounts_min <= h.enterprise_accounts_max:
            raise ValueError("honest.enterprise_accounts_min/max: need 1 <= min <= max")
        for name in ("minimax", "moonshot", "deepseek"):
            if getattr(self, name).shape.via_reseller and h.resellers < 1:
                raise ValueError(
                    f"{name}.shape.via_reseller: needs honest.resellers >= 1, not {h.resellers}"
                )
        if h.resellers < 0:
            raise ValueError(f"honest.resellers: {h.resellers} must be at least 0")
        # Each account's end-user codes live below 2**20 (``synth.resellers``).
        if h.resellers and not 1 <= h.reseller_end_users <= 200_000:
            raise ValueError(
                f"honest.reseller_end_users: {h.reseller_end_users} must be within 1..200000"
            )

    def to_dict(self) -> dict[str, Any]:
        """Every parameter, world parameters only where they differ from their default."""
        out: dict[str, Any] = _as_dict(self)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        """A scenario from a (possibly partial) mapping, as in a scenario JSON file."""
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = set(data) - set(known)
        if unknown:
            raise ValueError(f"scenario: unknown field(s) {', '.join(sorted(unknown))}")
        values: dict[str, Any] = dict(data)
        nested = {"minimax": MiniMax, "moonshot": Moonshot, "deepseek": DeepSeek, "honest": Honest}
        for name, kind in nested.items():
            if name in values:
                fields = {f.name for f in dataclasses.fields(kind)}
                wrong = set(values[name]) - fields
                if wrong:
                    raise ValueError(
                        f"scenario: unknown field(s) {name}.{', '.join(sorted(wrong))}"
                    )
                part = dict(values[name])
                if "shape" in part:
                    part["shape"] = Shape(**part["shape"])
                values[name] = kind(**part)
        if "old_models" in values:
            values["old_models"] = tuple(values["old_models"])
        for name in ("campaign_languages", "honest_languages"):
            if name in values:
                values[name] = tuple((str(lang), float(w)) for lang, w in values[name])
        return cls(**values)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        return cls.from_dict(json.loads(path.read_text()))


def _as_dict(value: Any) -> Any:
    """``dataclasses.asdict``, leaving out world parameters at their defaults."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _as_dict(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not (f.metadata.get("world") and getattr(value, f.name) == f.default)
        }
    if isinstance(value, tuple):
        return tuple(_as_dict(v) for v in value)
    return value
