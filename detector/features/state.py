"""Running per-account state of bounded size, merged from window aggregates."""

from __future__ import annotations

import polars as pl

from detector.features.windows import CAP_COLUMNS, WindowAggregate

_SUMMED = [
    "records",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "errors",
    *CAP_COLUMNS,
    "prompted",
    "unique_prompts",
    "new_model_records",
    "active_minutes",
]
HOURS = [f"h{hour:02d}" for hour in range(24)]


def empty_accounts() -> pl.DataFrame:
    """The account-state frame with no rows, in its schema."""
    schema: dict[str, pl.DataType] = {"account_id": pl.String()}
    schema |= {"first_seen": pl.Float64(), "last_seen": pl.Float64()}
    schema |= {name: pl.Int64() for name in (*_SUMMED, "active_windows", *HOURS)}
    schema["org_id"] = pl.String()
    return pl.DataFrame(schema=schema)


def empty_keys() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "account_id": pl.String(),
            "kind": pl.String(),
            "value": pl.String(),
            "records": pl.Int64(),
            "last_seen": pl.Float64(),
        }
    )


def merge_accounts(state: pl.DataFrame, windows: list[WindowAggregate]) -> pl.DataFrame:
    """``state`` with the windows' per-account aggregates added (sums, hour-of-day shape)."""
    if not windows:
        return state
    hour_cols = [
        pl.when(pl.col("hour") == h).then(pl.col("records")).otherwise(0).alias(name)
        for h, name in enumerate(HOURS)
    ]
    fresh = (
        pl.concat([window.accounts for window in windows])
        .with_columns(
            *hour_cols,
            pl.col("window_start").alias("first_seen"),
            pl.col("window_start").alias("last_seen"),
            pl.lit(1, pl.Int64).alias("active_windows"),
        )
        .select(state.columns)
    )
    # Only the accounts these windows touched are regrouped; the rest is carried
    # over untouched, so a tick costs what its windows hold, not the whole state.
    touched = fresh.select("account_id").unique()
    rest = state.join(touched, on="account_id", how="anti")
    state = state.join(touched, on="account_id", how="semi")
    merged = (
        pl.concat([state, fresh])
        .group_by("account_id")
        .agg(
            pl.col("first_seen").min(),
            pl.col("last_seen").max(),
            *[pl.col(name).sum() for name in (*_SUMMED, "active_windows", *HOURS)],
            pl.col("org_id").drop_nulls().first(),
        )
        .select(state.columns)
    )
    return pl.concat([rest, merged], rechunk=False)


def merge_keys(state: pl.DataFrame, windows: list[WindowAggregate], *, top_k: int) -> pl.DataFrame:
    """``state`` with the windows' key counts added, keeping the ``top_k`` values per
    account and kind (ties broken by value, so the result is deterministic)."""
    if not windows:
        return state
    parts = [w.keys.with_columns(pl.lit(w.start).alias("last_seen")) for w in windows]
    touched = pl.concat([part.select("account_id") for part in parts]).unique()
    rest = state.join(touched, on="account_id", how="anti")
    state = state.join(touched, on="account_id", how="semi")
    merged = (
        pl.concat([state, *parts])
        .group_by("account_id", "kind", "value")
        .agg(pl.col("records").sum(), pl.col("last_seen").max())
    )
    # Most (account, kind) pairs hold no more than ``top_k`` values and keep them all;
    # only the others are ranked, which spares sorting the whole merge on strings.
    crowded = pl.len().over("account_id", "kind") > top_k
    ranked = (
        merged.filter(crowded)
        .sort(["account_id", "kind", "records", "value"], descending=[False, False, True, False])
        .filter(pl.int_range(pl.len()).over("account_id", "kind") < top_k)
    )
    kept = pl.concat([merged.filter(~crowded), ranked]).select(state.columns)
    return pl.concat([rest, kept], rechunk=False)
