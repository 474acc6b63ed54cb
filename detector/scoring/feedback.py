"""Reviewers' decisions as labels: clusters like a blocked one score higher, clusters
like an accepted one lower.

Similarity is a Gaussian kernel on the features scaled to 0–1 by their limits, so a
decision moves the scores of near-identical clusters (the same campaign coming back
under new accounts) and leaves unrelated ones alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from detector.scoring.cluster_features import FEATURE_LIMITS, FEATURE_NAMES

# Label of each review action: block raises, accept lowers, watch says nothing yet.
ACTION_LABELS: dict[str, float] = {"block": 1.0, "escalate": 0.5, "watch": 0.0, "accept": -1.0}


def scaled(x: Mapping[str, float]) -> tuple[float, ...]:
    """The features of ``x`` scaled to 0–1 by ``FEATURE_LIMITS``, in ``FEATURE_NAMES`` order."""
    out = []
    for name in FEATURE_NAMES:
        low, high = FEATURE_LIMITS[name]
        value = float(x.get(name, low))
        out.append(min(1.0, max(0.0, (value - low) / (high - low))))
    return tuple(out)


@dataclass
class FeedbackMemory:
    """Labelled feature vectors (bounded, oldest dropped first) and the score shift they
    imply. ``weight`` is the shift in log-odds for an identical labelled cluster."""

    weight: float = 3.0
    bandwidth: float = 0.01
    capacity: int = 1000
    labelled_: list[tuple[tuple[float, ...], float]] = field(default_factory=list)

    def add(self, x: Mapping[str, float], action: str) -> None:
        """Record a reviewer's ``action`` on a cluster with features ``x``."""
        if action not in ACTION_LABELS:
            raise ValueError(f"action: {action!r} is not one of {sorted(ACTION_LABELS)}")
        label = ACTION_LABELS[action]
        if label == 0.0:
            return
        self.labelled_.append((scaled(x), label))
        del self.labelled_[: -self.capacity]

    def shift(self, x: Mapping[str, float]) -> float:
        """Log-odds to add to the score of a cluster with features ``x``."""
        if not self.labelled_:
            return 0.0
        point = scaled(x)
        up = down = 0.0
        for vector, label in self.labelled_:
            msd = sum((a - b) ** 2 for a, b in zip(point, vector, strict=True)) / len(point)
            similarity = math.exp(-msd / self.bandwidth)
            if label > 0:
                up = max(up, label * similarity)
            else:
                down = max(down, -label * similarity)
        return self.weight * (up - down)
