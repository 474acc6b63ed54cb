"""Aggregates of one closed event-time window: per account, per key value, per minute."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from detector.features.capability import CAPABILITIES

CAP_COLUMNS = [f"cap_{name}" for name in CAPABILITIES]

# Linkage and profile keys read from records: kind → expression. Composite kinds
# pair two weak values so that neither alone glues accounts (a popular SDK string,
# a busy NAT), while the pair (same SDK from the same /24) still does.
KEY_KINDS: dict[str, pl.Expr] = {
    "ip": pl.col("ip_prefix"),
    "ua": pl.col("user_agent"),
    "ipua": pl.concat_str(["ip_prefix", "user_agent"], separator=" | "),
    "tmpl": pl.col("template_fp"),
    "iptmpl": pl.concat_str(["ip_prefix", "template_fp"], separator=" | "),
    "sys": pl.col("system_fp"),
    # A template under one system prompt: CAMPAIGNS.md's "one template reused across
    # many accounts"; an agent framework's users share the prompt, not the templates.
    "systmpl": pl.concat_str(["system_fp", "template_fp"], separator=" | "),
    "tools": pl.col("tools"),
    "channel": pl.col("channel"),
    # The API key a request came with: evidence for the reviewer (which keys carry a
    # campaign), never a link.
    "key": pl.col("api_key"),
}

# Every kind of key, those above and the two read from sign-up metadata
# (``clustering.linkage.account_meta_keys``): an enum, so the many filters on kind
# compare small integers rather than strings.
# ``gwsys`` is derived at analysis time, never stored: a system prompt inside one
# gateway (``clustering.linkage.gateway_keys``).
KIND = pl.Enum([*KEY_KINDS, "pay", "signup", "gwsys"])

# The record columns the kinds above are made of, in two sets counted apart (see
# ``aggregate_window``), with the kinds each set makes.
KEY_SETS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("ip_prefix", "user_agent", "system_fp", "tools", "channel", "api_key"): (
        "ip",
        "ua",
        "ipua",
        "sys",
        "tools",
        "channel",
        "key",
    ),
    ("ip_prefix", "system_fp", "template_fp"): ("tmpl", "iptmpl", "systmpl"),
}


# An account's hash, where key rows are matched by account: every place that matches
# against ``_acct`` must derive it the same way.
ACCOUNT_HASH = pl.col("account_id").hash().alias("_acct")
# A value's hash, which stands for the value wherever values are only matched,
# grouped or counted (linkage, pruning, cluster features): never for display.
VALUE_HASH = pl.col("value").hash().alias("_tie")


def with_match_hashes(keys: pl.DataFrame) -> pl.DataFrame:
    """``keys`` with ``_acct`` and ``_tie`` (``with_key_hashes``), unless it has them:
    the pipeline's key state carries both, a frame built by hand gets them here."""
    hashes = {"_acct": ACCOUNT_HASH, "_tie": VALUE_HASH}
    missing = [expr for name, expr in hashes.items() if name not in keys.columns]
    return keys.with_columns(missing) if missing else keys


def with_key_hashes(keys: pl.DataFrame) -> pl.DataFrame:
    """``keys`` (``account_id``, ``kind``, ``value``, ...) with the 64-bit hashes the
    key state groups, matches and ranks on: ``_acct`` (the account), ``_group`` (the
    account and kind), ``_key`` (the account, kind and value) and ``_tie`` (the value
    alone, which breaks ties between equally used values the same way in every
    account, so accounts sharing a set of values keep the same ones)."""
    return (
        keys.with_columns(ACCOUNT_HASH, VALUE_HASH)
        .with_columns(pl.struct("_acct", "kind").hash().alias("_group"))
        .with_columns(pl.struct("_group", "_tie").hash().alias("_key"))
    )


@dataclass(frozen=True, slots=True)
class WindowAggregate:
    """What one window leaves behind once its records are folded in."""

    start: float
    accounts: pl.DataFrame
    # Per account, kind and value: ``records``, and the hashes of ``with_key_hashes``,
    # computed here, on the aggregating thread, rather than at the merge.
    keys: pl.DataFrame
    minutes: pl.DataFrame


def aggregate_window(
    frame: pl.DataFrame, *, start: float, new_models: frozenset[str] = frozenset()
) -> WindowAggregate:
    """Per-account aggregates of the narrow records of one window starting at ``start``.

    ``new_models`` are the models released recently (first seen in the population a
    short while ago); records asking for them are counted to measure a pivot.
    """
    hour = int(start // 3600) % 24
    accounts = (
        frame.group_by("account_id")
        .agg(
            pl.len().cast(pl.Int64).alias("records"),
            pl.col("input_tokens").sum(),
            pl.col("output_tokens").sum(),
            pl.col("cache_read_tokens").sum(),
            pl.col("error").sum().cast(pl.Int64).alias("errors"),
            *[pl.col(c).sum().cast(pl.Int64) for c in CAP_COLUMNS],
            pl.col("prompt_fp").count().cast(pl.Int64).alias("prompted"),
            pl.col("prompt_fp").drop_nulls().n_unique().cast(pl.Int64).alias("unique_prompts"),
            pl.col("model").is_in(list(new_models)).sum().cast(pl.Int64).alias("new_model_records"),
            (pl.col("ts") // 60).n_unique().cast(pl.Int64).alias("active_minutes"),
            pl.col("org_id").drop_nulls().first().alias("org_id"),
        )
        .with_columns(pl.lit(start).alias("window_start"), pl.lit(hour).alias("hour"))
        .sort("account_id")
    )
    # An account repeats a few combinations of key columns within an hour: count
    # those first, then derive every kind from the combinations (one column per
    # kind, unpivoted to kind and value), not from each record ten times over.
    # Template kinds take a new value almost every record and the others a few per
    # account and hour: counted together, every template would repeat those too.
    # The sets make disjoint kinds, so each is grouped on its own, in no order.
    keys = pl.concat(
        [
            frame.group_by("account_id", *columns)
            .agg(pl.len().cast(pl.Int64).alias("n"))
            .select("account_id", "n", *[KEY_KINDS[kind].alias(kind) for kind in kinds])
            .unpivot(index=["account_id", "n"], variable_name="kind", value_name="value")
            .drop_nulls("value")
            for columns, kinds in KEY_SETS.items()
        ]
    ).with_columns(pl.col("kind").cast(KIND))
    # Two combinations may give one value of a kind (the same prompt from two
    # networks): summed per key, grouped on the key's hash, which the state needs
    # anyway, rather than on the strings.
    keys = (
        with_key_hashes(keys)
        .group_by("_key")
        .agg(
            pl.col("account_id").first(),
            pl.col("kind").first(),
            pl.col("value").first(),
            pl.col("n").sum().alias("records"),
            pl.col("_acct").first(),
            pl.col("_group").first(),
            pl.col("_tie").first(),
        )
        .select("account_id", "kind", "value", "records", "_acct", "_tie", "_group", "_key")
    )
    minutes = (
        frame.select("account_id", ((pl.col("ts") - start) // 60).cast(pl.Int32).alias("minute"))
        .group_by("account_id", "minute")
        .agg(pl.len().cast(pl.Int32).alias("records"))
        .sort("account_id", "minute")
    )
    return WindowAggregate(start=start, accounts=accounts, keys=keys, minutes=minutes)
