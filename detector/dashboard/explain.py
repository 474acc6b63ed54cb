"""The case page's "why": the score's terms split into what raised it and what
lowered it, each with its weight, the cluster's value and the typical cluster's, and
the sentence that says which accounts the numbers count.

Pure functions of a case row's JSON; the terms come from ``scoring.contributions``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from detector.dashboard.labels import signature_label

# What each feature a signature reads measures, for the "cluster" column.
MEASURES = {
    "cross_org_payment_share": "accounts paying with a card another organisation uses",
    "ip_prefixes_per_account": "IP prefixes per account (lower: more shared)",
    "top_system_share": "traffic under its most used system prompt",
    "template_accounts_share": "accounts repeating a shared task template",
    "share_cot_elicitation": "traffic asking for reasoning written out",
    "lockstep": "correlation of accounts' per-minute volumes",
    "capability_divergence": "distance of its capability mix from all traffic's",
    "new_model_share": "traffic to a newly released model",
    "signup_burst_share": "accounts signed up the same day",
    "hour_flatness": "flatness of traffic over the hours of the day",
    "cache_reuse": "input tokens read from the prompt cache",
    "volume_spread": "spread of accounts' rates (lower: more even)",
    "accounts_per_instrument": "accounts per payment instrument",
    "single_org": "organisations",
    "duplicate_share": "prompts that are exact repeats",
    "log_records_per_account": "records per account",
    "span_hours": "age of the cluster",
}


@dataclass(frozen=True, slots=True)
class Term:
    name: str
    label: str
    weight: float
    reason: str
    # The feature it reads, formatted, and the typical cluster's value of it.
    value: str | None
    typical: str | None
    # What that feature measures, in words.
    measure: str | None = None


@dataclass(frozen=True, slots=True)
class Explanation:
    raised: list[Term]
    lowered: list[Term]
    # baseline + raised + lowered = logit(score); None when terms were not kept.
    baseline: float | None
    total: float | None
    # Cases written before the terms were kept: their unsigned sentences.
    unsigned: list[str]
    # How many accounts the numbers count, and over what span.
    cluster_accounts: int | None
    active_days: float | None
    typical_clusters: int | None


def explain(
    contributions: Sequence[Mapping[str, Any]] | None,
    reasons: Sequence[str] | None,
    features: Mapping[str, Any] | None,
) -> Explanation:
    features = features or {}
    scope = _int(features.get("cluster_accounts"))
    days = features.get("active_days")
    clusters = _int(features.get("typ_clusters"))
    if not contributions:
        return Explanation([], [], None, None, list(reasons or []), scope, days, clusters)
    raised: list[Term] = []
    lowered: list[Term] = []
    baseline = 0.0
    for item in contributions:
        weight = float(item.get("weight") or 0.0)
        name = str(item.get("name", ""))
        if name == "baseline":
            baseline = weight
            continue
        if abs(weight) < 0.005:
            continue
        feature = item.get("feature")
        value = item.get("value")
        term = Term(
            name=name,
            label=signature_label(name),
            weight=weight,
            reason=str(item.get("reason", "")),
            value=None if feature is None or value is None else show(str(feature), float(value)),
            typical=(
                show(str(feature), float(features[f"typ_{feature}"]))
                if feature is not None and f"typ_{feature}" in features
                else None
            ),
            measure=None if feature is None else MEASURES.get(str(feature)),
        )
        (raised if weight > 0 else lowered).append(term)
    raised.sort(key=lambda t: -t.weight)
    lowered.sort(key=lambda t: t.weight)
    total = baseline + sum(t.weight for t in raised) + sum(t.weight for t in lowered)
    return Explanation(raised, lowered, baseline, total, [], scope, days, clusters)


def show(feature: str, value: float) -> str:
    """A feature's value in the words of its unit."""
    if feature == "log_records_per_account":
        return f"{math.exp(value):,.0f} records per account"
    if feature == "span_hours":
        return f"{value:,.0f} hours" if value < 72 else f"{value / 24:,.0f} days"
    if feature == "lockstep":
        return f"r = {value:.2f}"
    if feature in ("volume_spread", "accounts_per_instrument", "ip_prefixes_per_account"):
        return f"{value:.2f}"
    if feature == "single_org":
        return "one organisation" if value >= 1 else "several organisations"
    return f"{value:.0%}"


def scope_sentence(
    explanation: Explanation, *, account_count: int, scored_at: datetime | None
) -> str:
    """Which accounts the reasons' numbers count, against the case's whole size."""
    if explanation.cluster_accounts is None:
        return (
            f"The reasons count the accounts of the cluster scored last; the case holds "
            f"{account_count:,} accounts, every account that was ever part of it."
        )
    days = explanation.active_days
    span = f"active in the {days:g} days before" if days else "active at"
    when = scored_at.strftime("%Y-%m-%d %H:%M UTC") if scored_at else "the last scoring"
    return (
        f"Counts below are of the {explanation.cluster_accounts:,} of the case's "
        f"{account_count:,} accounts {span} {when} (the cluster scored last); the case "
        "holds every account that was ever part of it."
    )


def _int(value: Any) -> int | None:
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
