"""The cluster scorer: explicit signatures + an online anomaly model + reviewers'
labels, combined in log-odds into a score in 0–1 with reasons.

It follows river's contract: ``score_one(x)`` never learns and never mutates ``x``;
``learn_one(x)`` learns. Following DESIGN.md's warning about detectors that absorb
a sustained burst, the anomaly model never learns from a cluster that scores over the
threshold, so a campaign that runs for weeks cannot teach it that it is normal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from river import anomaly

from detector.scoring.cluster_features import FEATURE_LIMITS, FEATURE_NAMES
from detector.scoring.contributions import (
    Contribution,
    anomaly_term,
    baseline_term,
    cap_term,
    feedback_term,
    signature_term,
)
from detector.scoring.feedback import FeedbackMemory
from detector.scoring.signatures import evaluate


@dataclass(frozen=True, slots=True)
class ClusterScore:
    score: float
    anomaly: float
    reasons: list[str]
    signatures: list[str]
    # The terms of the log-odds, signed; they sum to the score's logit.
    contributions: list[Contribution] = field(default_factory=list)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


@dataclass
class ClusterScorer:
    """Scores cluster feature dicts (``FEATURE_NAMES`` plus ``account_count``,
    ``instruments``, ``ip_prefixes``).

    The log-odds are ``bias`` + the signatures' evidence + ``anomaly_weight`` times
    the anomaly model's score centred on 0.5 + the reviewers' feedback shift.
    """

    threshold: float = 0.7
    bias: float = -3.5
    anomaly_weight: float = 1.0
    seed: int = 7
    feedback: FeedbackMemory = field(default_factory=FeedbackMemory)
    model_: anomaly.HalfSpaceTrees = field(init=False)
    learned_: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.model_ = anomaly.HalfSpaceTrees(
            n_trees=10,
            height=6,
            window_size=100,
            limits=dict(FEATURE_LIMITS),  # type: ignore[arg-type]
            seed=self.seed,
        )

    def _vector(self, x: Mapping[str, float]) -> dict[str, float]:
        return {name: float(x[name]) for name in FEATURE_NAMES}

    def score_one(self, x: Mapping[str, float]) -> ClusterScore:
        """Score one cluster; ``x`` is left as it was and nothing is learned."""
        evidence = evaluate(x)
        # Until the model has seen one window of clusters its scores mean nothing.
        anomalous = (
            float(self.model_.score_one(self._vector(x)))  # type: ignore[no-untyped-call]
            if self.learned_ >= 100
            else 0.5
        )
        shift = self.feedback.shift(x)
        z = self.bias + sum(e.weight for e in evidence)
        z += self.anomaly_weight * 2 * (anomalous - 0.5) + shift
        uncapped = z
        if any(e.name == "nothing_decisive" for e in evidence) and shift <= 0:
            # Acting alike is not enough for a case: without a decisive sign (or a
            # reviewer's block on a cluster like it) the score stays under the threshold.
            z = min(z, math.log(self.threshold / (1 - self.threshold)) - 0.5)
        terms = [
            baseline_term(self.bias),
            *(signature_term(e.name, e.weight, e.reason, x) for e in evidence),
            anomaly_term(
                self.anomaly_weight * 2 * (anomalous - 0.5), anomalous, self.learned_ >= 100
            ),
            feedback_term(shift),
        ]
        if z < uncapped:
            terms.append(cap_term(z - uncapped))
        reasons = [e.reason for e in evidence if e.weight > 0]
        if anomalous >= 0.8:
            reasons.append(f"unusual among the clusters seen so far (anomaly {anomalous:.2f})")
        if shift >= 0.5:
            reasons.append("resembles a cluster reviewers blocked")
        elif shift <= -0.5:
            reasons.append("resembles a cluster reviewers accepted")
        reasons += [e.reason for e in evidence if e.weight < 0]
        return ClusterScore(
            score=_sigmoid(z),
            anomaly=anomalous,
            reasons=reasons,
            signatures=[e.name for e in evidence if e.weight > 0],
            contributions=terms,
        )

    def learn_one(self, x: Mapping[str, float]) -> None:
        """Learn a cluster as background, unless it scores over the threshold."""
        if self.score_one(x).score >= self.threshold:
            return
        self.model_.learn_one(self._vector(x))  # type: ignore[no-untyped-call]
        self.learned_ += 1

    def learn_decision(self, x: Mapping[str, float], action: str) -> None:
        """Take a reviewer's decision (``accept``, ``watch``, ``block``, ``escalate``)
        on a cluster with features ``x`` as a label for clusters like it."""
        self.feedback.add(x, action)
