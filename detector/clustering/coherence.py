"""Split a component into the groups of accounts that also act alike.

A proxy network mixes real customers' traffic with a campaign's, so a component
linked through its IP ranges holds both, and the real customers may even outnumber
the campaign. Within each component, accounts are linked again, this time by what
they do and who pays: the scaffolding they run (a system prompt, a tool schema), a
prompt template they repeat (under one system prompt, or from one network), or a
payment instrument; each connected group of that second graph becomes a cluster of
its own. Customers who only shared an exit IP fall away; the campaign, whose
accounts run the same scaffolds and templates, stays together. CAMPAIGNS.md:
compute the signals per template within a cluster.

A *public* tool schema, one that accounts outside every component run as well (a
popular agent framework's tool set), says nothing about who operates an account: the
campaign may run it, and so may the proxy's customers who code with the same agent.
It links nothing. System prompts are written by whoever deploys the application, so
a shared one stays a tie; a campaign that rotates a few prompts across its accounts
is tied by each prompt that carries a tenth of an account's traffic, and one that
rotates dozens by the templates its accounts repeat under them. A sign-up burst,
which links components, does not tie here: a proxy's customers sign up through its
exits too.
"""

from __future__ import annotations

import polars as pl

from detector.clustering.graph import bipartite_labels
from detector.features.windows import ACCOUNT_HASH, with_match_hashes

PROFILE_KINDS: tuple[str, ...] = ("sys", "tools", "systmpl", "iptmpl", "pay")


def prune(
    members: pl.DataFrame,
    keys: pl.DataFrame,
    *,
    min_share: float = 0.1,
    min_records: int = 3,
    public_users: int = 3,
) -> pl.DataFrame:
    """Split ``members`` (``account_id``, ``component``) into behavioural groups;
    returns the same columns, the label of a group being its smallest account id.

    A system prompt or tool schema counts when it carries at least ``min_share`` of
    the account's records and ``min_records`` of them (so one stray request does not
    bridge two groups, even from an account that has sent five); a template counts
    from ``min_records`` repeats, as in linkage. A tool schema that at least
    ``public_users`` accounts in no component run is public and links nothing (see
    the module's docstring). ``keys`` holds every active account, not just
    ``members``, so that what runs outside the components can be told. Groups of
    one account are dropped.
    """
    if members.is_empty():
        return members
    # Accounts and values are matched on their hashes (``with_match_hashes``), not on
    # the strings of every key row; the members, a small part of them, keep names.
    keys = with_match_hashes(keys).select("_acct", "kind", "_tie", "records")
    members = members.with_columns(ACCOUNT_HASH)
    totals = (
        keys.filter(pl.col("kind") == "channel")
        .group_by("_acct")
        .agg(pl.col("records").sum().alias("total"))
    )
    # The cheap test first: most template rows are single requests and go before
    # the join with the totals.
    held = (
        keys.filter(
            pl.col("kind").is_in(PROFILE_KINDS)
            & ((pl.col("kind") == "pay") | (pl.col("records") >= min_records))
        )
        .join(totals, on="_acct", how="left")
        .filter(
            pl.col("kind").is_in(["pay", "systmpl", "iptmpl"])
            | (pl.col("records") >= min_share * pl.col("total").fill_null(0))
        )
        .select("_acct", "kind", "_tie")
    )
    # Counted over accounts in no component: a campaign whose accounts fall into two
    # components does not make its own system prompt public.
    outside = (
        held.join(members, on="_acct", how="anti")
        .filter(pl.col("kind") == "tools")
        .group_by("kind", "_tie")
        .agg(pl.len().alias("outside"))
    )
    profile = (
        held.join(members, on="_acct")
        .join(outside, on=["kind", "_tie"], how="left")
        .with_columns(
            # A node is a value within one component, named by a 64-bit hash.
            pl.struct("component", "kind", "_tie").hash().alias("node"),
            (pl.col("outside").fill_null(0) >= public_users).alias("public"),
        )
    )
    profile = profile.filter(~pl.col("public")).select("account_id", "node")
    shared = profile.filter(pl.len().over("node") >= 2)
    groups = bipartite_labels(members["account_id"], shared, item="account_id", node="node")
    return (
        members.join(groups, on="account_id")
        # A group never spans two components: their nodes are distinct by construction.
        .with_columns(pl.col("account_id").min().over("label").alias("component"))
        .filter(pl.len().over("label") >= 2)
        .select("account_id", "component")
        .sort("account_id")
    )
