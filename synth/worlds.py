"""Worlds: whole scenarios drawn from one number, to judge detection on many.

The default scenario is one draw of many plausible worlds; a detector tuned on it
alone learns its accidents (one payment scheme, one address mode, one client
string). ``draw(n)`` returns a ``Scenario`` whose every campaign and look-alike
shape is drawn from the wide ranges of ``RANGES`` and ``CHOICES``, from the
number ``n`` alone: the same number gives the same world, at any scale and span
(only start days are clipped to the span).

Volumes and account counts are drawn at scale 1.0; ``Scenario.scaled`` applies the
scale and the floors as for the default scenario.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from synth.catalogue import COUNTRY_TZ
from synth.scenario import IP_MODES, TIMINGS, DeepSeek, Honest, MiniMax, Moonshot, Scenario, Shape

CAMPAIGNS = ("minimax", "moonshot", "deepseek")
LANGUAGES = ("en", "zh", "ru", "es", "pt", "de", "fr", "ja", "ko", "ar", "hi")
# Client strings (indices into catalogue.USER_AGENTS) common in honest traffic too:
# the official SDKs, litellm and langchain.
COMMON_CLIENTS = (0, 1, 2, 5, 6)

# Inclusive ranges of every numeric parameter a world draws, by its path in the
# scenario. Counts and volumes are drawn log-uniformly, shares uniformly.
RANGES: dict[str, tuple[float, float]] = {
    "content_flag_share": (0.0, 0.6),
    "prompt_text_share": (0.0005, 0.005),
    "minimax.volume": (2_000_000, 20_000_000),
    "minimax.accounts": (2_000, 25_000),
    "minimax.mean_lifetime_days": (3.0, 20.0),
    "minimax.proxy_ips": (100, 2_000),
    "minimax.benign_share_low": (0.05, 0.5),
    "minimax.benign_share_high": (0.05, 0.6),
    "minimax.pivot_share": (0.2, 0.8),
    "minimax.agentic_share": (0.6, 0.95),
    "moonshot.volume": (500_000, 6_000_000),
    "moonshot.accounts": (150, 1_000),
    "moonshot.system_variations": (5, 80),
    "deepseek.volume": (50_000, 600_000),
    "deepseek.accounts": (20, 200),
    "deepseek.payment_instruments": (2, 10),
    "deepseek.per_account_per_minute": (0.5, 4.0),
    "honest.general_accounts": (20_000, 80_000),
    "honest.general_volume": (5_000_000, 20_000_000),
    "honest.enterprise_orgs": (10, 100),
    "honest.enterprise_volume": (1_000_000, 5_000_000),
    "honest.enterprise_accounts_min": (1, 5),
    "honest.enterprise_accounts_max": (1, 200),
    "honest.enterprise_org_id_share": (0.0, 1.0),
    "honest.enterprise_cache_low": (0.5, 0.8),
    "honest.enterprise_cache_high": (0.5, 0.9),
    "honest.enterprise_internal_prompt": (0.0, 1.0),
    "honest.framework_users": (5_000, 60_000),
    "honest.framework_volume": (1_000_000, 6_000_000),
    "honest.framework_sdk_share": (0.3, 1.0),
    "honest.framework_quickstart": (0.01, 0.15),
    "honest.proxy_customers": (1_000, 8_000),
    "honest.resale_in_campaign_accounts": (0.1, 0.6),
    "honest.resellers": (2, 8),
    "honest.reseller_volume": (500_000, 5_000_000),
    "honest.reseller_end_users": (300, 5_000),
}
# Probability that a campaign buys its access through a reseller (``shape.via_reseller``):
# its accounts are then only end users of one honest reseller's account.
VIA_RESELLER = {"moonshot": 0.3, "deepseek": 0.3}
# Span in weeks of each campaign (CAMPAIGNS.md) and its start day (clipped to the run).
WEEKS = {"minimax": (8.0, 12.0), "moonshot": (6.0, 10.0), "deepseek": (2.0, 6.0)}
START_DAYS = (0.0, 10.0)
PHASE2 = (0.4, 0.8)  # Moonshot's second phase, as a share of its span
for _name in CAMPAIGNS:
    RANGES[f"{_name}.shape.farm_size"] = (3, 60)
    RANGES[f"{_name}.shape.templates"] = (3, 500)
    RANGES[f"{_name}.shape.rate_orders"] = (0.0, 2.0)
    RANGES[f"{_name}.shape.resale_share"] = (0.0, 0.0 if _name == "minimax" else 0.5)
CHOICES: dict[str, tuple[Any, ...]] = {
    **{f"{name}.shape.ip_mode": IP_MODES for name in CAMPAIGNS},
    **{f"{name}.shape.timing": TIMINGS[1:] for name in CAMPAIGNS},
    **{f"{name}.shape.user_agent": COMMON_CLIENTS for name in CAMPAIGNS},
    **{f"{name}.shape.operator_tz": tuple(sorted(set(COUNTRY_TZ.tolist()))) for name in CAMPAIGNS},
    "honest.framework_user_agent": COMMON_CLIENTS,
}
_LOG = ("volume", "accounts", "proxy_ips", "farm_size", "templates", "_orgs", "_users")
_WORLD_SEED = 0x57_0A_1D  # any fixed number: worlds differ from other uses of a seed
# Parameters added after the first worlds are drawn from a stream of their own, so
# that every parameter drawn before keeps its value in every world.
_LATER = 1


class _Draw:
    """Draws each parameter from its range, by name."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self, path: str, low: float | None = None, high: float | None = None) -> Any:
        lo, hi = RANGES[path]
        lo, hi = max(lo, low if low is not None else lo), min(hi, high if high is not None else hi)
        integer = isinstance(RANGES[path][0], int) and isinstance(RANGES[path][1], int)
        if any(path.endswith(s) for s in _LOG) and lo > 0:
            value = math.exp(self.rng.uniform(math.log(lo), math.log(hi + integer)))
        else:
            value = self.rng.uniform(lo, hi + integer)
        return min(int(value), int(hi)) if integer else round(float(value), 4)

    def choice(self, path: str) -> Any:
        options = CHOICES[path]
        return options[int(self.rng.integers(0, len(options)))]


def draw(number: int, *, scale: float = 1.0, days: int = 28) -> Scenario:
    """World ``number``: every campaign's and look-alike's shape drawn from its range."""
    rng = np.random.default_rng([_WORLD_SEED, number])
    pick = _Draw(rng)
    last_start = min(START_DAYS[1], max(0.0, days - 1.0))

    def window(name: str) -> tuple[float, float]:
        start = round(float(rng.uniform(START_DAYS[0], last_start)), 3)
        return start, round(start + 7 * float(rng.uniform(*WEEKS[name])), 3)

    def shape(name: str) -> Shape:
        return Shape(
            farm_size=pick(f"{name}.shape.farm_size"),
            ip_mode=pick.choice(f"{name}.shape.ip_mode"),
            resale_share=pick(f"{name}.shape.resale_share"),
            templates=pick(f"{name}.shape.templates"),
            timing=pick.choice(f"{name}.shape.timing"),
            operator_tz=pick.choice(f"{name}.shape.operator_tz"),
            rate_orders=pick(f"{name}.shape.rate_orders"),
            user_agent=pick.choice(f"{name}.shape.user_agent"),
        )

    start, end = window("minimax")
    low = pick("minimax.benign_share_low")
    minimax = MiniMax(
        volume=pick("minimax.volume"),
        accounts=pick("minimax.accounts"),
        start_day=start,
        end_day=end,
        mean_lifetime_days=pick("minimax.mean_lifetime_days"),
        proxy_ips=pick("minimax.proxy_ips"),
        benign_share_low=low,
        benign_share_high=pick("minimax.benign_share_high", low=low),
        pivot_share=pick("minimax.pivot_share"),
        agentic_share=pick("minimax.agentic_share"),
        shape=shape("minimax"),
    )
    start, end = window("moonshot")
    moonshot = Moonshot(
        volume=pick("moonshot.volume"),
        accounts=pick("moonshot.accounts"),
        start_day=start,
        end_day=end,
        phase2_day=round(start + (end - start) * float(rng.uniform(*PHASE2)), 3),
        system_variations=pick("moonshot.system_variations"),
        shape=shape("moonshot"),
    )
    start, end = window("deepseek")
    deepseek = DeepSeek(
        volume=pick("deepseek.volume"),
        accounts=pick("deepseek.accounts"),
        start_day=start,
        end_day=end,
        payment_instruments=pick("deepseek.payment_instruments"),
        per_account_per_minute=pick("deepseek.per_account_per_minute"),
        shape=shape("deepseek"),
    )
    size_min = pick("honest.enterprise_accounts_min")
    cache_low = pick("honest.enterprise_cache_low")
    honest = dataclasses.replace(
        Honest(),
        general_accounts=pick("honest.general_accounts"),
        general_volume=pick("honest.general_volume"),
        enterprise_orgs=pick("honest.enterprise_orgs"),
        enterprise_volume=pick("honest.enterprise_volume"),
        enterprise_accounts_min=size_min,
        enterprise_accounts_max=pick("honest.enterprise_accounts_max", low=size_min),
        enterprise_org_id_share=pick("honest.enterprise_org_id_share"),
        enterprise_cache_low=cache_low,
        enterprise_cache_high=pick("honest.enterprise_cache_high", low=cache_low),
        enterprise_internal_prompt=pick("honest.enterprise_internal_prompt"),
        framework_users=pick("honest.framework_users"),
        framework_volume=pick("honest.framework_volume"),
        framework_sdk_share=pick("honest.framework_sdk_share"),
        framework_user_agent=pick.choice("honest.framework_user_agent"),
        framework_quickstart=pick("honest.framework_quickstart"),
        proxy_customers=pick("honest.proxy_customers"),
        resale_in_campaign_accounts=pick("honest.resale_in_campaign_accounts"),
    )
    later = _Draw(np.random.default_rng([_WORLD_SEED, number, _LATER]))
    honest = dataclasses.replace(
        honest,
        resellers=later("honest.resellers"),
        reseller_volume=later("honest.reseller_volume"),
        reseller_end_users=later("honest.reseller_end_users"),
    )
    via = {name: bool(later.rng.random() < p) for name, p in VIA_RESELLER.items()}
    moonshot = dataclasses.replace(
        moonshot, shape=dataclasses.replace(moonshot.shape, via_reseller=via["moonshot"])
    )
    deepseek = dataclasses.replace(
        deepseek, shape=dataclasses.replace(deepseek.shape, via_reseller=via["deepseek"])
    )
    return Scenario(
        seed=int(rng.integers(1, 2**31)),
        scale=scale,
        days=days,
        release_day=round(float(rng.uniform(0.3, 0.9)) * days, 3),
        content_flag_share=pick("content_flag_share"),
        prompt_text_share=pick("prompt_text_share"),
        world=number,
        campaign_languages=_languages(rng, english=0.3),
        honest_languages=_languages(rng, english=0.8),
        minimax=minimax,
        moonshot=moonshot,
        deepseek=deepseek,
        honest=honest,
    )


def _languages(rng: np.random.Generator, english: float) -> tuple[tuple[str, float], ...]:
    """A mix of one to four languages; English among them with probability ``english``."""
    others = list(rng.permutation(LANGUAGES[1:]))
    count = int(rng.integers(1, 5))
    chosen = ["en"] if rng.random() < english else []
    chosen += others[: count - len(chosen)]
    weights = rng.dirichlet(np.ones(len(chosen)))
    return tuple((str(lang), round(float(w), 4)) for lang, w in zip(chosen, weights, strict=True))


def document(scenario: Scenario) -> dict[str, Any]:
    """``world.json``: every parameter of the world's scenario, its number included;
    ``synth generate --scenario world.json`` generates the same world again."""
    return scenario.to_dict()
