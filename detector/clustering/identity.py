"""Stable cluster identity as membership drifts.

Each tick's components are matched to the clusters of the previous tick by overlap:
the larger of their Jaccard index and the share of the old cluster that the new
component holds (a campaign that grows from 10 to 400 accounts keeps its id even
though the Jaccard index falls to 0.025). Matching is one-to-one and greedy, best
overlap first; a component that matches nothing gets a fresh id.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import polars as pl


@dataclass
class ClusterRegistry:
    """Cluster ids and their current members. Picklable; lives in the pipeline state."""

    min_overlap: float = 0.3
    members_: dict[str, frozenset[str]] = field(default_factory=dict)
    next_id_: int = 1

    def assign(self, components: pl.DataFrame) -> dict[str, str]:
        """Map each component label of ``components`` (``account_id``, ``component``)
        to a stable cluster id, and make those the current clusters."""
        groups: dict[str, frozenset[str]] = {
            str(label): frozenset(accounts)
            for label, accounts in components.group_by("component")
            .agg(pl.col("account_id"))
            .sort("component")
            .iter_rows()
        }
        owner = {account: cid for cid, accounts in self.members_.items() for account in accounts}
        candidates: list[tuple[float, str, str]] = []
        for label, accounts in groups.items():
            counts = Counter(owner[a] for a in accounts if a in owner)
            for cid, common in counts.items():
                old = self.members_[cid]
                jaccard = common / (len(old) + len(accounts) - common)
                overlap = max(jaccard, common / len(old))
                if overlap >= self.min_overlap:
                    candidates.append((overlap, label, cid))
        # Best overlap first; ties by label then id, so the result is deterministic.
        candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
        mapping: dict[str, str] = {}
        taken: set[str] = set()
        for _, label, cid in candidates:
            if label not in mapping and cid not in taken:
                mapping[label] = cid
                taken.add(cid)
        for label in groups:
            if label not in mapping:
                mapping[label] = f"K{self.next_id_:06d}"
                self.next_id_ += 1
        self.members_ = {mapping[label]: accounts for label, accounts in groups.items()}
        return mapping
