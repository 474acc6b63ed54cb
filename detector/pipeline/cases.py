"""What the engine says about a case at one tick, and the evidence it assembles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import polars as pl

from detector.features.capability import CAPABILITIES

SHARED_KINDS: dict[str, str] = {
    "pay": "payment",
    "ip": "ip_prefix",
    "ua": "client",
    "sys": "system",
    "tools": "tools",
    "tmpl": "template",
    "key": "api_key",
}


@dataclass
class CaseUpdate:
    """A case's state after one tick, as the store writes it."""

    case_id: str
    cluster_id: str
    opened: bool
    event_time: float
    opened_at: float
    score: float
    peak_score: float
    account_count: int
    record_count: int
    capability_mix: dict[str, float]
    reasons: list[str]
    features: dict[str, float]
    shared: dict[str, list[dict[str, Any]]]
    timeline: list[dict[str, Any]]
    signatures: list[str]
    # Accounts that joined at this tick, and every account's record count.
    new_accounts: list[str] = field(default_factory=list)
    account_records: dict[str, int] = field(default_factory=dict)
    # The campaign the case belongs to: the oldest case of those whose clusters have
    # shared accounts (a hydra's card farms, opened apart, merging as its templates
    # accumulate), and every case of it; None while the case stands alone.
    campaign_id: str | None = None
    campaign_cases: list[str] = field(default_factory=list)
    # Whether ``shared`` and ``timeline`` are filled in. The engine gathers them
    # only for the latest update of each case, once it settles (``Engine.settle``):
    # an update that a later one of the same case supersedes keeps them empty.
    settled: bool = False


@dataclass
class CaseInfo:
    """What the engine remembers of a case between ticks."""

    case_id: str
    opened_at: float
    peak_score: float
    accounts: set[str] = field(default_factory=set)
    records: dict[str, int] = field(default_factory=dict)


def continued_case(cases: Iterable[CaseInfo], accounts: set[str]) -> CaseInfo | None:
    """The case that a cluster newly over the threshold continues, if any: of
    ``cases``, the one it shares the most accounts with, provided they are at least
    half of the smaller of the two (ties go to the older case). A campaign whose
    cluster splits off a part, or takes in the cluster of its own first hours, keeps
    its one case instead of opening another."""
    best: CaseInfo | None = None
    best_overlap = 0
    for info in sorted({info.case_id: info for info in cases}.values(), key=attrgetter("case_id")):
        overlap = len(accounts & info.accounts)
        if overlap > best_overlap and 2 * overlap >= min(len(accounts), len(info.accounts)):
            best, best_overlap = info, overlap
    return best


@dataclass
class Campaigns:
    """Cases grouped into campaigns: a cluster that holds accounts of several cases
    joins their campaigns (union-find over case ids; the oldest id names the group).
    Cases opened apart for one operation, such as card farms that open their own
    cases in their first hours and merge once their shared templates show, end up in
    one campaign that a reviewer sees and acts on as one."""

    parent_: dict[str, str] = field(default_factory=dict)

    def root(self, case_id: str) -> str:
        parent = self.parent_.get(case_id, case_id)
        if parent == case_id:
            return case_id
        top = self.root(parent)
        self.parent_[case_id] = top
        return top

    def join(self, case_ids: Iterable[str]) -> None:
        roots = sorted({self.root(case_id) for case_id in case_ids})
        for other in roots[1:]:
            self.parent_[other] = roots[0]
        if roots:
            self.parent_.setdefault(roots[0], roots[0])

    def members(self, case_id: str) -> list[str]:
        """Every case of ``case_id``'s campaign, itself included, in id order."""
        top = self.root(case_id)
        return sorted({c for c in self.parent_ if self.root(c) == top} | {case_id})


def capability_mix(row: dict[str, Any]) -> dict[str, float]:
    """Capability name → share of records, rounded for display."""
    return {name: round(float(row[f"share_{name}"]), 4) for name in CAPABILITIES}


def shared_infrastructure(keys: pl.DataFrame, accounts: list[str], top: int = 5) -> dict[str, Any]:
    """Per kind, the values at least two of ``accounts`` share, most shared first."""
    owners = pl.DataFrame({"case_id": "", "account_id": accounts}, schema=OWNERS_SCHEMA)
    return shared_by_case(keys, owners, top=top).get("", no_shared())


def timeline(daily: pl.DataFrame, accounts: list[str]) -> list[dict[str, Any]]:
    """Daily records and active accounts of ``accounts``, oldest day first."""
    owners = pl.DataFrame({"case_id": "", "account_id": accounts}, schema=OWNERS_SCHEMA)
    return timelines(daily, owners).get("", [])


# Which accounts each case holds: the input of the per-case evidence below, which
# serves every case updated at a tick with one join instead of one filter per case.
OWNERS_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.String(), "account_id": pl.String()}


def no_shared() -> dict[str, list[dict[str, Any]]]:
    return {label: [] for label in SHARED_KINDS.values()}


def shared_by_case(
    keys: pl.DataFrame, owners: pl.DataFrame, top: int = 5
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``shared_infrastructure`` of every case of ``owners`` (``case_id``,
    ``account_id``) at once; cases with nothing shared are absent."""
    grouped = (
        keys.filter(
            pl.col("account_id").is_in(owners["account_id"].implode())
            & pl.col("kind").is_in(list(SHARED_KINDS))
        )
        .join(owners, on="account_id")
        .group_by("case_id", "kind", "value")
        .agg(pl.col("account_id").n_unique().alias("accounts"), pl.col("records").sum())
        .filter(pl.col("accounts") >= 2)
        .sort(
            ["case_id", "kind", "accounts", "records", "value"],
            descending=[False, False, True, True, False],
        )
        .filter(pl.int_range(pl.len()).over("case_id", "kind") < top)
    )
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for case_id, kind, value, n, r in grouped.select(
        "case_id", "kind", "value", "accounts", "records"
    ).iter_rows():
        shared = out.setdefault(case_id, no_shared())
        shared[SHARED_KINDS[kind]].append({"value": value, "accounts": int(n), "records": int(r)})
    return out


def timelines(daily: pl.DataFrame, owners: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """``timeline`` of every case of ``owners`` at once; cases with no days are absent."""
    days = (
        daily.filter(pl.col("account_id").is_in(owners["account_id"].implode()))
        .join(owners, on="account_id")
        .group_by("case_id", "day")
        .agg(pl.col("records").sum(), pl.col("account_id").n_unique().alias("accounts"))
        .sort("case_id", "day")
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for case_id, day, records, n in days.iter_rows():
        out.setdefault(case_id, []).append(
            {
                "day": datetime.fromtimestamp(day * 86_400, UTC).date().isoformat(),
                "records": int(records),
                "accounts": int(n),
            }
        )
    return out
