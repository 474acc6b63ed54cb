"""Prune accounts that a shared value pulled into a cluster but that do not act with it.

A proxy network mixes real customers' traffic with a campaign's, so a component
linked through its IP ranges holds both. Accounts that run the cluster's common
scaffolding (system prompts, tool schemas, templates that a large part of the
cluster uses) stay; the rest, unless they share a payment instrument with the
cluster, leave it. CAMPAIGNS.md: compute the signals per template within a cluster.
"""

from __future__ import annotations

import polars as pl

PROFILE_KINDS: tuple[str, ...] = ("sys", "tools", "tmpl")


def prune(
    members: pl.DataFrame,
    keys: pl.DataFrame,
    *,
    core_share: float = 0.3,
    min_coherence: float = 0.3,
) -> pl.DataFrame:
    """Keep, of ``members`` (``account_id``, ``component``), the accounts coherent with
    their component; returns the same columns.

    A *core* value is one used by at least ``core_share`` of a component's accounts;
    an account's coherence is the largest share of its records that go to core values
    of one kind. Components of two accounts are kept whole.
    """
    if members.is_empty():
        return members
    sizes = members.group_by("component").agg(pl.len().alias("size"))
    profile = keys.filter(pl.col("kind").is_in(PROFILE_KINDS)).join(members, on="account_id")
    core = (
        profile.group_by("component", "kind", "value")
        .agg(pl.col("account_id").n_unique().alias("users"))
        .join(sizes, on="component")
        .filter(pl.col("users") >= core_share * pl.col("size"))
        .select("component", "kind", "value")
    )
    totals = (
        keys.filter(pl.col("kind") == "channel")
        .group_by("account_id")
        .agg(pl.col("records").sum().alias("total"))
    )
    coherence = (
        profile.join(core, on=["component", "kind", "value"], how="semi")
        .group_by("account_id", "kind")
        .agg(pl.col("records").sum())
        .join(totals, on="account_id")
        .group_by("account_id")
        .agg((pl.col("records") / pl.col("total")).max().alias("coherence"))
    )
    pay = keys.filter(pl.col("kind") == "pay").join(members, on="account_id")
    shared_pay = (
        pay.filter(pl.col("account_id").n_unique().over("component", "value") >= 2)
        .select("account_id")
        .unique()
    )
    kept = (
        members.join(sizes, on="component")
        .join(coherence, on="account_id", how="left")
        .filter(
            (pl.col("size") <= 2)
            | (pl.col("coherence").fill_null(0.0) >= min_coherence)
            | pl.col("account_id").is_in(shared_pay["account_id"].implode())
        )
        .select("account_id", "component")
    )
    # A component pruned down to one account is no longer a cluster.
    return kept.filter(pl.len().over("component") >= 2).sort("account_id")
