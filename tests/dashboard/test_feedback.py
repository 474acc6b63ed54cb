"""Decisions become labels: through ``POST /v1/cases/{id}/decisions``, a block raises
and an accept lowers the score of a cluster like the decided one, and leaves an
unrelated cluster alone.

The decisions go through the real endpoint into the store; the scorer reads them back
the way the pipeline's runner does (``store.cases.decisions_after`` then
``ClusterScorer.learn_decision``).
"""

from __future__ import annotations

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


def test_a_block_raises_and_an_accept_lowers_the_scores_of_similar_clusters(
    live: LiveServer, engine: Engine, seeded: Callable[..., None]
) -> None:
    # Two borderline clusters (scores 0.38 and 0.25 before any decision): the ones a
    # reviewer's call is for.
    blocked = cluster(random.Random(24), campaign=False)
    accepted = cluster(random.Random(36), campaign=False)
    unrelated = cluster(random.Random(99), campaign=True)
    seeded(seed_case, "blocked", score=0.6, account_ids=["b1"], features=blocked)
    seeded(seed_case, "accepted", score=0.6, account_ids=["a1"], features=accepted)

    before = ClusterScorer()
    like_blocked = before.score_one(near(blocked, 0.1)).score
    like_accepted = before.score_one(near(accepted, 0.1)).score
    other = before.score_one(unrelated).score
    assert 0.1 < like_accepted < like_blocked < 0.6

    with live.client() as client:
        for case_id, action in (("blocked", "block"), ("accepted", "accept")):
            answer = client.post(f"/v1/cases/{case_id}/decisions", json={"action": action})
            assert answer.status_code == 201

    after = ClusterScorer()
    with engine.connect() as conn:
        labels = decisions_after(conn, after_id=0)
    assert [action for _, action, _ in labels] == ["block", "accept"]
    for _, action, features in labels:
        after.learn_decision(features, action)

    raised = after.score_one(near(blocked, 0.1))
    assert raised.score > like_blocked + 0.2
    assert "resembles a cluster reviewers blocked" in raised.reasons
    lowered = after.score_one(near(accepted, 0.1))
    assert lowered.score < like_accepted - 0.1
    assert "resembles a cluster reviewers accepted" in lowered.reasons
    assert after.score_one(unrelated).score == pytest.approx(other)
