"""A score taken apart: its terms sum to the score's log-odds, carry their signs and
the feature each reads, and the typical cluster is the median of those not in a case."""

from __future__ import annotations

import math
import random

import polars as pl
import pytest

from detector.scoring.contributions import FEATURE_OF, typical
from detector.scoring.scorer import ClusterScorer
from detector.scoring.signatures import low_rate
from tests.scoring.test_scorer import cluster
from tests.scoring.test_signatures import neutral


def logit(p: float) -> float:
    return math.log(p / (1 - p))


@pytest.mark.parametrize("campaign", [True, False], ids=["campaign", "honest"])
def test_terms_sum_to_the_log_odds_of_the_score(campaign: bool) -> None:
    scorer = ClusterScorer()
    rng = random.Random(3)
    for _ in range(20):
        x = cluster(rng, campaign=campaign)
        result = scorer.score_one(x)
        total = sum(term.weight for term in result.contributions)
        if 1e-9 < result.score < 1 - 1e-9:
            assert total == pytest.approx(logit(result.score), abs=1e-6)
        names = [term.name for term in result.contributions]
        assert names[0] == "baseline" and "anomaly" in names and "feedback" in names
        # The signatures fired are exactly the terms that raise it by name.
        raised = {t.name for t in result.contributions if t.weight > 0 and t.name in FEATURE_OF}
        assert raised == set(result.signatures)


def test_the_cap_is_a_term_of_its_own_when_nothing_decisive_was_seen() -> None:
    # 150 organisations alike on two networks with one scaffold: much evidence, none
    # of it decisive, so the scorer holds it under the threshold, and says by how much.
    x = neutral(
        ip_prefixes=2.0,
        ip_prefixes_per_account=0.1,
        log_accounts=5.0,
        account_count=150.0,
        org_count=150.0,
        top_system_share=0.9,
        top_capability_share=0.9,
        template_accounts_share=0.9,
        capability_divergence=0.5,
        volume_spread=0.3,
        log_records_per_account=6.0,
    )
    result = ClusterScorer().score_one(x)
    names = {t.name: t.weight for t in result.contributions}
    assert names["nothing_decisive"] == -2.0
    assert names["no_decisive_sign_cap"] < 0 and result.score < 0.7
    assert sum(names.values()) == pytest.approx(logit(result.score))


def test_a_term_reports_the_value_of_the_feature_it_reads() -> None:
    x = neutral(cache_reuse=0.04, account_count=20.0)
    result = ClusterScorer().score_one(x)
    term = next(t for t in result.contributions if t.name == "low_cache")
    assert term.feature == "cache_reuse" and term.value == pytest.approx(0.04)
    assert term.as_dict()["direction"] == "raises"


def test_a_low_rate_is_never_written_as_zero() -> None:
    # 2.7 records per account over 72 hours: 0.038 an hour, once shown as "0.0".
    found = low_rate(neutral(log_records_per_account=1.0))
    assert found is not None and "0.038 requests an hour" in found.reason
    assert "0.0 requests" not in found.reason


def test_typical_is_the_median_of_clusters_not_in_a_case() -> None:
    frame = pl.DataFrame(
        {
            "cluster_id": ["a", "b", "c", "flagged"],
            "cache_reuse": [0.1, 0.3, 0.5, 0.0],
            "hour_flatness": [0.6, 0.7, 0.8, 1.0],
        }
    )
    found = typical(frame, [(None, {"cluster_id": "flagged"}, None)])
    assert found["typ_cache_reuse"] == pytest.approx(0.3)
    assert found["typ_hour_flatness"] == pytest.approx(0.7)
    assert found["typ_clusters"] == 3
    assert (
        typical(
            frame.filter(pl.col("cluster_id") == "flagged"),
            [(None, {"cluster_id": "flagged"}, None)],
        )
        == {}
    )
