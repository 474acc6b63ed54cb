"""Join the groups one operation splits into: card farms that share no card, no
network and no sign-up wave, but run the same private scaffolding.

An operation buys its accounts in batches (a farm per card, per proxy contract, per
sign-up wave), and each batch links into a group of its own through what it shares.
What the batches have in common is the work they do: the operation's system prompts
and the task templates it runs under them. A scaffold is *private* when hardly any
account runs it outside the groups: a framework's system prompt is run by thousands
of accounts that no infrastructure links, the operation's by its own groups alone.
Groups that share a private scaffold, each in at least half its accounts, become one.
CAMPAIGNS.md: "very few scaffolds", "a few system-prompt families".
"""

from __future__ import annotations

import polars as pl

from detector.clustering.graph import bipartite_labels
from detector.features.windows import ACCOUNT_HASH, with_match_hashes

# System prompts and the templates run under them, written by whoever runs the
# accounts. Not tool schemas: an agent's tool set is shared by everyone who codes with
# it, enterprises on their own cards included, and one outside user fewer than the
# public limit would make it look private.
SCAFFOLD_KINDS: tuple[str, ...] = ("sys", "systmpl")


def join_operations(
    groups: pl.DataFrame,
    keys: pl.DataFrame,
    *,
    min_share: float = 0.1,
    min_records: int = 3,
    min_holders: float = 0.5,
    public_users: int = 3,
) -> pl.DataFrame:
    """``groups`` (``account_id``, ``component``) with the groups that share a private
    scaffold joined; returns the same columns, each label the smallest account id of
    its joined group.

    An account holds a system prompt that carries at least
    ``min_share`` of its records and ``min_records`` of them, and a template under a
    system prompt it repeats ``min_records`` times (as ``coherence.prune``). A value
    joins the groups in which at least ``min_holders`` of the accounts hold it,
    unless it is public: held by ``public_users`` accounts or more outside every
    group (a popular agent's tool set, a framework's prompt). Judged by the accounts
    outside, never by a share of all holders: one large group, a hydra on thousands
    of accounts, would make every tool set it runs look private.
    """
    if groups.is_empty():
        return groups
    keys = with_match_hashes(keys).select("_acct", "kind", "_tie", "records")
    members = groups.with_columns(ACCOUNT_HASH)
    totals = (
        keys.filter(pl.col("kind") == "channel")
        .group_by("_acct")
        .agg(pl.col("records").sum().alias("total"))
    )
    held = (
        keys.filter(pl.col("kind").is_in(SCAFFOLD_KINDS) & (pl.col("records") >= min_records))
        .join(totals, on="_acct", how="left")
        .filter(
            (pl.col("kind") == "systmpl")
            | (pl.col("records") >= min_share * pl.col("total").fill_null(0))
        )
        .select("_acct", pl.struct("kind", "_tie").hash().alias("value"))
        .unique()
    )
    inside = held.join(members.select("_acct", "component"), on="_acct")
    outside = (
        held.join(members, on="_acct", how="anti").group_by("value").agg(pl.len().alias("outside"))
    )
    sizes = groups.group_by("component").agg(pl.len().alias("size"))
    ties = (
        inside.group_by("value", "component")
        .agg(pl.len().alias("holders"))
        .join(sizes, on="component")
        .filter(pl.col("holders") >= min_holders * pl.col("size"))
        .join(outside, on="value", how="left")
        .filter(
            (pl.col("outside").fill_null(0) < public_users)
            & (pl.col("component").n_unique().over("value") >= 2)
        )
        .select("value", "component")
    )
    if ties.is_empty():
        return groups
    mapping = bipartite_labels(sizes["component"], ties, item="component", node="value").rename(
        {"label": "joined"}
    )
    return (
        groups.join(mapping, on="component")
        .with_columns(pl.col("account_id").min().over("joined").alias("component"))
        .select("account_id", "component")
        .sort("account_id")
    )
