"""Running per-account state of bounded size, merged from window aggregates."""

from __future__ import annotations

import polars as pl

from detector.features.windows import CAP_COLUMNS, KIND, WindowAggregate

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
    """The key-state frame with no rows. The hash columns of
    ``windows.with_key_hashes`` ride along, so that a merge hashes nothing: the
    windows' rows come hashed from their aggregate, the state's from earlier merges."""
    return pl.DataFrame(
        schema={
            "account_id": pl.String(),
            "kind": KIND,
            "value": pl.String(),
            "records": pl.Int64(),
            "last_seen": pl.Float64(),
            "_acct": pl.UInt64(),
            "_group": pl.UInt64(),
            "_key": pl.UInt64(),
            "_tie": pl.UInt64(),
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
    account and kind: the most used, ties broken by a hash of the value, so the result
    does not depend on the order rows arrived in."""
    if not windows:
        return state
    # Rows are matched, grouped and ranked on 64-bit hashes of their string columns
    # rather than on the strings: several times faster on the millions of rows of a
    # full scenario's state, and two distinct keys share a hash once in ~10^13 ticks.
    # The windows' rows come hashed from their aggregate (``with_key_hashes``).
    fresh = pl.concat([w.keys.with_columns(pl.lit(w.start).alias("last_seen")) for w in windows])
    touched = fresh.select(pl.col("_acct").unique())
    # Joins, not a filter: a filtered frame keeps the string buffers of every row it
    # left out, and the state would carry each tick's buffers into the next (a mask
    # for the rows merged again alone raised the peak of a scale-0.05 replay from
    # 450 to 640 MB). Two accounts sharing an ``_acct`` hash only means an untouched
    # one is merged too.
    rest = state.join(touched, on="_acct", how="anti")
    held = state.join(touched, on="_acct", how="semi")
    merged = (
        pl.concat([held, fresh.select(held.columns)])
        .group_by("_key")
        .agg(
            pl.col("account_id").first(),
            pl.col("kind").first(),
            pl.col("value").first(),
            pl.col("records").sum(),
            pl.col("last_seen").max(),
            pl.col("_acct").first(),
            pl.col("_group").first(),
            pl.col("_tie").first(),
        )
        .sort(["_group", "records", "_tie"], descending=[False, True, False])
    )
    return pl.concat([rest, _heads(merged, "_group", top_k).select(rest.columns)], rechunk=False)


def _heads(frame: pl.DataFrame, column: str, n: int) -> pl.DataFrame:
    """The first ``n`` rows of each run of equal ``column`` values in ``frame``, which
    is sorted by it: a scan, where a window function would hash every row again."""
    runs = frame[column]
    starts = (runs != runs.shift(1)).fill_null(value=True)
    position = pl.int_range(0, len(frame), eager=True)
    first = position.filter(starts).gather(starts.cast(pl.UInt32).cum_sum() - 1)
    return frame.filter(position - first < n)
