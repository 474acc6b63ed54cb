"""Decisions become labels: through ``POST /v1/cases/{id}/decisions``, a block raises
and an accept lowers the score of a cluster like the decided one, and leaves an
unrelated cluster alone.

The decisions go through the real endpoint into the store; the scorer reads them back
the way the pipeline's runner does (``store.cases.decisions_after`` then
``ClusterScorer.learn_decision``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest
from sqlalchemy import Engine

from detector.scoring.scorer import ClusterScorer
from detector.store.cases import decisions_after
from tests.dashboard.seeding import seed_case
from tests.scoring.test_scorer import cluster
from tests.support.server import LiveServer

pytestmark = pytest.mark.db


def near(x: dict[str, float], step: float) -> dict[str, float]:
    """The same campaign seen again: a little more traffic per account."""
    return dict(x, log_records_per_account=x["log_records_per_account"] + step)


def borderline(x: dict[str, float]) -> float:
    """A scorer bias that puts ``x`` at 0.5 before any decision: a reviewer's call,
    whatever the signatures' current weights."""
    default = ClusterScorer()
    z = math.log(1 / default.score_one(x).score - 1)
    return default.bias + z


def test_a_block_raises_and_an_accept_lowers_the_scores_of_similar_clusters(
    live: LiveServer, engine: Engine, seeded: Callable[..., None]
) -> None:
    blocked = cluster(random.Random(24), campaign=False)
    accepted = cluster(random.Random(36), campaign=False)
    unrelated = cluster(random.Random(99), campaign=True)
    seeded(seed_case, "blocked", score=0.6, account_ids=["b1"], features=blocked)
    seeded(seed_case, "accepted", score=0.6, account_ids=["a1"], features=accepted)
    like_blocked, like_accepted = near(blocked, 0.1), near(accepted, 0.1)
    biases = {"blocked": borderline(like_blocked), "accepted": borderline(like_accepted)}
    before = {name: ClusterScorer(bias=bias) for name, bias in biases.items()}
    assert before["blocked"].score_one(like_blocked).score == pytest.approx(0.5)
    assert before["accepted"].score_one(like_accepted).score == pytest.approx(0.5)
    other = before["blocked"].score_one(unrelated).score

    with live.client() as client:
        for case_id, action in (("blocked", "block"), ("accepted", "accept")):
            answer = client.post(f"/v1/cases/{case_id}/decisions", json={"action": action})
            assert answer.status_code == 201

    # The scorer learns the labels the way the pipeline's runner reads them.
    with engine.connect() as conn:
        labels = decisions_after(conn, after_id=0)
    assert [action for _, action, _ in labels] == ["block", "accept"]
    after = {name: ClusterScorer(bias=bias) for name, bias in biases.items()}
    for scorer in after.values():
        for _, action, features in labels:
            scorer.learn_decision(features, action)

    raised = after["blocked"].score_one(like_blocked)
    assert raised.score > 0.7
    assert "resembles a cluster reviewers blocked" in raised.reasons
    lowered = after["accepted"].score_one(like_accepted)
    assert lowered.score < 0.3
    assert "resembles a cluster reviewers accepted" in lowered.reasons
    assert after["blocked"].score_one(unrelated).score == pytest.approx(other)
