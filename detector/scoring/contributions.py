"""A score taken apart: each term of the log-odds, signed, with the sentence a
reviewer reads and the feature it rests on.

The scorer's log-odds are a sum (``ClusterScorer.score_one``): a baseline every
cluster starts from, the signatures' evidence, the anomaly model's term and the
reviewers' feedback, with a cap when nothing decisive was seen. Listing the terms
with their signs lets a reviewer see what raised a score and what lowered it, rather
than one unsigned list of sentences. Presentation only: nothing here changes a score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

# The feature each signature reads first, so that the case page can show the
# cluster's value beside the typical cluster's (``typ_<feature>`` features).
FEATURE_OF: dict[str, str] = {
    "shared_payment": "cross_org_payment_share",
    "fan_out": "ip_prefixes_per_account",
    "template_reuse": "top_system_share",
    "shared_templates": "template_accounts_share",
    "reasoning_extraction": "share_cot_elicitation",
    "lockstep": "lockstep",
    "capability_concentration": "capability_divergence",
    "model_pivot": "new_model_share",
    "signup_burst": "signup_burst_share",
    "round_the_clock": "hour_flatness",
    "low_cache": "cache_reuse",
    "even_volume": "volume_spread",
    "independent_users": "accounts_per_instrument",
    "one_organisation": "single_org",
    "exact_repeats": "duplicate_share",
    "cache_heavy": "cache_reuse",
    "human_rhythm": "hour_flatness",
    "low_rate": "log_records_per_account",
    "too_young": "span_hours",
}

# Terms that are not signatures.
BASELINE = "baseline"
ANOMALY = "anomaly"
FEEDBACK = "feedback"
CAP = "no_decisive_sign_cap"


@dataclass(frozen=True, slots=True)
class Contribution:
    """One term of a cluster's log-odds: positive raised the score, negative lowered it."""

    name: str
    weight: float
    reason: str
    feature: str | None = None
    value: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "weight": round(self.weight, 4),
            "direction": "raises" if self.weight > 0 else "lowers" if self.weight < 0 else "none",
            "reason": self.reason,
            "feature": self.feature,
            "value": None if self.value is None else round(self.value, 4),
        }


def signature_term(name: str, weight: float, reason: str, x: Any) -> Contribution:
    """A signature's evidence as a term, with the value of the feature it reads."""
    feature = FEATURE_OF.get(name)
    value = None
    if feature is not None:
        try:
            value = float(x[feature])
        except (KeyError, TypeError, ValueError):
            feature = None
    return Contribution(name, weight, reason, feature, value)


def baseline_term(bias: float) -> Contribution:
    return Contribution(BASELINE, bias, "where every cluster starts, before any evidence")


def anomaly_term(weight: float, anomalous: float, learned: bool) -> Contribution:
    if not learned:
        reason = "the anomaly model has not seen enough clusters yet: no effect"
    else:
        reason = f"anomaly model: {anomalous:.2f} (0.5 is ordinary among clusters seen so far)"
    return Contribution(ANOMALY, weight, reason, None, anomalous)


def feedback_term(shift: float) -> Contribution:
    if shift > 0:
        reason = "resembles clusters reviewers blocked"
    elif shift < 0:
        reason = "resembles clusters reviewers accepted"
    else:
        reason = "no reviewer decision on a cluster like it"
    return Contribution(FEEDBACK, shift, reason)


def cap_term(weight: float) -> Contribution:
    return Contribution(
        CAP,
        weight,
        "no decisive sign (shared billing, extraction, lockstep, machine timing or cache "
        "evasion): held under the threshold",
    )


def typical(features: pl.DataFrame, flagged: Sequence[tuple[Any, Any, Any]]) -> dict[str, float]:
    """``typ_<feature>``: the median over the clusters scored at a tick that are not in
    a case, for each feature a signature reads. ``flagged`` holds ``(case, row,
    score)`` of those that are; their rows carry ``cluster_id``."""
    names = sorted({name for name in FEATURE_OF.values() if name in features.columns})
    if "cluster_id" not in features.columns or not names:
        return {}
    cases = [row["cluster_id"] for _, row, _ in flagged]
    rest = features.filter(~pl.col("cluster_id").is_in(cases))
    if rest.is_empty():
        return {}
    medians = rest.select(pl.col(name).median() for name in names).row(0)
    counted = {"typ_clusters": float(rest.height)}
    return counted | {
        f"typ_{name}": round(float(value), 4)
        for name, value in zip(names, medians, strict=True)
        if value is not None
    }
