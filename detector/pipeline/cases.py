"""What the engine says about a case at one tick, and the evidence it assembles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
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


@dataclass
class CaseInfo:
    """What the engine remembers of a case between ticks."""

    case_id: str
    opened_at: float
    peak_score: float
    accounts: set[str] = field(default_factory=set)
    records: dict[str, int] = field(default_factory=dict)


def capability_mix(row: dict[str, Any]) -> dict[str, float]:
    """Capability name → share of records, rounded for display."""
    return {name: round(float(row[f"share_{name}"]), 4) for name in CAPABILITIES}


def shared_infrastructure(keys: pl.DataFrame, accounts: list[str], top: int = 5) -> dict[str, Any]:
    """Per kind, the values at least two of ``accounts`` share, most shared first."""
    mine = keys.filter(
        pl.col("account_id").is_in(accounts) & pl.col("kind").is_in(list(SHARED_KINDS))
    )
    grouped = (
        mine.group_by("kind", "value")
        .agg(pl.col("account_id").n_unique().alias("accounts"), pl.col("records").sum())
        .filter(pl.col("accounts") >= 2)
        .sort(["kind", "accounts", "records", "value"], descending=[False, True, True, False])
    )
    out: dict[str, Any] = {}
    for kind, label in SHARED_KINDS.items():
        rows = grouped.filter(pl.col("kind") == kind).head(top)
        out[label] = [
            {"value": value, "accounts": int(n), "records": int(r)}
            for value, n, r in rows.select("value", "accounts", "records").iter_rows()
        ]
    return out


def timeline(daily: pl.DataFrame, accounts: list[str]) -> list[dict[str, Any]]:
    """Daily records and active accounts of ``accounts``, oldest day first."""
    days = (
        daily.filter(pl.col("account_id").is_in(accounts))
        .group_by("day")
        .agg(pl.col("records").sum(), pl.col("account_id").n_unique().alias("accounts"))
        .sort("day")
    )
    return [
        {
            "day": datetime.fromtimestamp(day * 86_400, UTC).date().isoformat(),
            "records": int(records),
            "accounts": int(n),
        }
        for day, records, n in days.iter_rows()
    ]
