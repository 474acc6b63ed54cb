"""Split a component into the groups of accounts that also act alike.

A proxy network mixes real customers' traffic with a campaign's, so a component
linked through its IP ranges holds both, and the real customers may even outnumber
the campaign. Within each component, accounts are linked again, this time by the
scaffolding they run (a system prompt, a tool schema) or a payment instrument they
share; each connected group of that second graph becomes a cluster of its own.
Customers who only shared an exit IP fall away; the campaign, whose accounts run
the same few scaffolds, stays together. CAMPAIGNS.md: compute the signals per
template within a cluster.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

PROFILE_KINDS: tuple[str, ...] = ("sys", "tools", "pay")


def prune(
    members: pl.DataFrame,
    keys: pl.DataFrame,
    *,
    min_share: float = 0.2,
) -> pl.DataFrame:
    """Split ``members`` (``account_id``, ``component``) into behavioural groups;
    returns the same columns, the label of a group being its smallest account id.

    An account's scaffolding counts when it carries at least ``min_share`` of the
    account's records (so one stray request does not bridge two groups). Groups of
    one account are dropped.
    """
    if members.is_empty():
        return members
    totals = (
        keys.filter(pl.col("kind") == "channel")
        .group_by("account_id")
        .agg(pl.col("records").sum().alias("total"))
    )
    profile = (
        keys.filter(pl.col("kind").is_in(PROFILE_KINDS))
        .join(members, on="account_id")
        .join(totals, on="account_id", how="left")
        .filter(
            (pl.col("kind") == "pay")
            | (pl.col("records") >= min_share * pl.col("total").fill_null(0))
        )
        .select(
            "account_id",
            pl.concat_str(["component", "kind", "value"], separator="\x00").alias("node"),
        )
    )
    shared = profile.filter(pl.len().over("node") >= 2)
    accounts = members["account_id"].unique().sort()
    nodes = shared["node"].unique().sort()
    a_map = pl.DataFrame({"account_id": accounts, "a": np.arange(len(accounts))})
    n_map = pl.DataFrame({"node": nodes, "n": np.arange(len(nodes)) + len(accounts)})
    pairs = shared.join(a_map, on="account_id").join(n_map, on="node")
    size = len(accounts) + len(nodes)
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs["a"].to_numpy(), pairs["n"].to_numpy())),
        shape=(size, size),
    )
    _, labels = connected_components(graph, directed=False)
    groups = pl.DataFrame({"account_id": accounts, "label": labels[: len(accounts)]})
    return (
        members.join(groups, on="account_id")
        # A group never spans two components: their nodes are distinct by construction.
        .with_columns(pl.col("account_id").min().over("label").alias("component"))
        .filter(pl.len().over("label") >= 2)
        .select("account_id", "component")
        .sort("account_id")
    )
