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
    # The terms of the score's log-odds (``scoring.contributions``), as dicts.
    contributions: list[dict[str, Any]] = field(default_factory=list)
    # The start of the last window each account still in the running state was
    # active in (event time, epoch seconds): the dashboard's "last active".
    account_last_seen: dict[str, float] = field(default_factory=dict)
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
    keys: pl.DataFrame, owners: pl.DataFrame, top: int = 5, listed: int = 50
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """``shared_infrastructure`` of every case of ``owners`` (``case_id``,
    ``account_id``) at once; cases with nothing shared are absent.

    Each value also says how common it is outside the case: ``platform_accounts``
    counts every account of ``keys`` (the accounts active at the tick) that uses it,
    and ``account_ids`` / ``other_account_ids`` list up to ``listed`` of them inside
    and outside the case, for the reviewer to follow."""
    relevant = keys.filter(pl.col("kind").is_in(list(SHARED_KINDS)))
    grouped = (
        relevant.filter(pl.col("account_id").is_in(owners["account_id"].implode()))
        .join(owners, on="account_id")
        .group_by("case_id", "kind", "value")
        .agg(
            pl.col("account_id").n_unique().alias("accounts"),
            pl.col("records").sum(),
            pl.col("account_id").unique().sort().head(listed).alias("account_ids"),
        )
        .filter(pl.col("accounts") >= 2)
        .sort(
            ["case_id", "kind", "accounts", "records", "value"],
            descending=[False, False, True, True, False],
        )
        .filter(pl.int_range(pl.len()).over("case_id", "kind") < top)
    )
    users = (
        relevant.join(grouped.select("kind", "value").unique(), on=["kind", "value"])
        .select("kind", "value", "account_id")
        .unique()
    )
    platform = users.group_by("kind", "value").agg(
        pl.col("account_id").n_unique().alias("platform_accounts")
    )
    outside = (
        users.join(owners, on="account_id", how="left")
        .group_by("kind", "value", "account_id")
        .agg(pl.col("case_id").drop_nulls())
    )
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    others = _outside_members(outside, grouped, listed)
    for case_id, kind, value, n, r, ids, everyone in (
        grouped.join(platform, on=["kind", "value"], how="left")
        .select(
            "case_id", "kind", "value", "accounts", "records", "account_ids", "platform_accounts"
        )
        .iter_rows()
    ):
        shared = out.setdefault(case_id, no_shared())
        shared[SHARED_KINDS[kind]].append(
            {
                "value": value,
                "accounts": int(n),
                "records": int(r),
                "platform_accounts": int(everyone or n),
                "account_ids": list(ids),
                "other_account_ids": others.get((case_id, kind, value), []),
            }
        )
    return out


def _outside_members(
    outside: pl.DataFrame, grouped: pl.DataFrame, listed: int
) -> dict[tuple[str, str, str], list[str]]:
    """For each (case, kind, value) shown, up to ``listed`` accounts using the value
    that are not of that case."""
    found: dict[tuple[str, str, str], list[str]] = {}
    holders: dict[tuple[str, str], list[tuple[str, list[str]]]] = {}
    for kind, value, account, cases in outside.sort("account_id").iter_rows():
        holders.setdefault((kind, value), []).append((account, cases))
    for case_id, kind, value in grouped.select("case_id", "kind", "value").iter_rows():
        chosen = [a for a, cases in holders.get((kind, value), []) if case_id not in cases]
        found[(case_id, kind, value)] = chosen[:listed]
    return found


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
