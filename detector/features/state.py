"""Running per-account state of bounded size, merged from window aggregates (the
keys each account uses are in ``key_state``)."""

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
