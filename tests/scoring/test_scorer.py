"""The scorer contract (river's: scored before learned, input not mutated, survives
pickling), its skill on labelled synthetic clusters, and reviewers' feedback."""

from __future__ import annotations

import copy
import math
import pickle
import random
from collections.abc import Callable

import pytest
from sklearn.metrics import roc_auc_score

from detector.features.capability import CAPABILITIES
from detector.scoring.cluster_features import FEATURE_NAMES
from detector.scoring.scorer import ClusterScorer

SCORERS: dict[str, Callable[[], ClusterScorer]] = {
    "default": ClusterScorer,
    "strict": lambda: ClusterScorer(threshold=0.9, anomaly_weight=0.5),
}


def cluster(rng: random.Random, *, campaign: bool) -> dict[str, float]:
    """A cluster feature dict; campaigns share payment, elicit reasoning and run in
    lockstep around the clock, honest clusters are one organisation on office hours.
    Both are noisy, and a third of campaigns show only some of the signs."""
    x = {name: 0.0 for name in FEATURE_NAMES}
    accounts = rng.randint(3, 400)
    partial = campaign and rng.random() < 0.33
    x.update(
        account_count=accounts,
        instruments=max(1, accounts // rng.randint(5, 50)) if campaign else rng.randint(1, 2),
        ip_prefixes=rng.randint(1, 20),
        log_accounts=math.log(accounts),
        log_records_per_account=rng.uniform(4, 9),
        single_org=0.0 if campaign else float(rng.random() < 0.8),
        hour_flatness=rng.uniform(0.9, 1.0) if campaign else rng.uniform(0.6, 0.9),
        cache_reuse=rng.uniform(0, 0.1) if campaign else rng.uniform(0.1, 0.8),
        lockstep=rng.uniform(0.5, 0.95) if campaign and not partial else rng.uniform(-0.1, 0.3),
        top_system_share=rng.uniform(0.6, 1.0) if campaign else rng.uniform(0.0, 0.6),
        top_capability_share=rng.uniform(0.5, 0.95),
        duplicate_share=rng.uniform(0, 0.1) if campaign else rng.uniform(0, 0.7),
    )
    x["accounts_per_instrument"] = accounts / x["instruments"]
    x["shared_payment_share"] = 1.0 if campaign else 0.0
    x["cross_org_payment_share"] = 1.0 if campaign else 0.0
    cot = rng.uniform(0.3, 0.7) if campaign and not partial else rng.uniform(0, 0.1)
    x["share_cot_elicitation"] = cot
    x["share_chat"] = 1 - cot
    x["capability_divergence"] = rng.uniform(0.3, 0.6) if campaign else rng.uniform(0, 0.3)
    assert set(f"share_{c}" for c in CAPABILITIES) <= set(x)
    return x


@pytest.fixture(params=list(SCORERS), ids=list(SCORERS))
def scorer(request: pytest.FixtureRequest) -> ClusterScorer:
    return SCORERS[request.param]()


def test_scores_before_learning(scorer: ClusterScorer) -> None:
    result = scorer.score_one(cluster(random.Random(1), campaign=False))
    assert 0.0 <= result.score <= 1.0


def test_does_not_mutate_its_input(scorer: ClusterScorer) -> None:
    x = cluster(random.Random(2), campaign=True)
    before = copy.deepcopy(x)
    scorer.score_one(x)
    scorer.learn_one(x)
    scorer.learn_decision(x, "block")
    assert x == before


def test_survives_pickling(scorer: ClusterScorer) -> None:
    rng = random.Random(3)
    for _ in range(150):
        scorer.learn_one(cluster(rng, campaign=False))
    probe = cluster(rng, campaign=True)
    clone = pickle.loads(pickle.dumps(scorer))  # noqa: S301  (our own bytes)
    assert clone.score_one(probe) == scorer.score_one(probe)
    honest = cluster(rng, campaign=False)
    scorer.learn_one(honest)
    clone.learn_one(honest)
    assert clone.score_one(probe) == scorer.score_one(probe)


def test_better_than_chance_on_labelled_clusters(scorer: ClusterScorer) -> None:
    rng = random.Random(4)
    for _ in range(200):
        scorer.learn_one(cluster(rng, campaign=False))
    labels = [rng.random() < 0.3 for _ in range(300)]
    scores = [scorer.score_one(cluster(rng, campaign=label)).score for label in labels]
    assert roc_auc_score(labels, scores) >= 0.9


def test_never_learns_from_clusters_it_flags() -> None:
    scorer = ClusterScorer()
    flagged = cluster(random.Random(5), campaign=True)
    assert scorer.score_one(flagged).score >= scorer.threshold
    scorer.learn_one(flagged)
    assert scorer.learned_ == 0


def test_decisions_move_the_scores_of_similar_clusters_only() -> None:
    rng = random.Random(6)
    scorer = ClusterScorer()
    seen = cluster(rng, campaign=False)
    seen["lockstep"] = 0.45  # suspicious but under the threshold
    similar = dict(seen, log_records_per_account=seen["log_records_per_account"] + 0.1)
    unrelated = cluster(random.Random(99), campaign=True)
    base_similar = scorer.score_one(similar).score
    base_unrelated = scorer.score_one(unrelated).score
    scorer.learn_decision(seen, "block")
    raised = scorer.score_one(similar)
    assert raised.score > base_similar
    assert "resembles a cluster reviewers blocked" in raised.reasons
    assert scorer.score_one(unrelated).score == pytest.approx(base_unrelated)
    accepted = ClusterScorer()
    accepted.learn_decision(seen, "accept")
    assert accepted.score_one(similar).score < base_similar
    with pytest.raises(ValueError, match="action: 'ban' is not one of"):
        scorer.learn_decision(seen, "ban")
