"""Running per-account key counts, the ``top_k`` values per account and kind.

A full scenario's key state holds over a million rows, and each tick's windows bring
about half a million more, most of them prompt templates used once that will never
rank among an account's top values. Regrouping all of it at every tick cost most of
a tick. A merge here touches only what can change:

- a value the state holds has its count raised in place;
- a value it does not hold enters only if it ranks above the group's *floor*: the
  account's ``top_k``-th value of that kind as it was when the group was last
  ranked, a lower bound on where it is now; the few groups that such values enter
  are the only ones regrouped and ranked again.

The result is the same as ranking every value ever seen by its count with the
state's evictions (a value that fell out of the top starts again from zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from detector.features.windows import KIND, WindowAggregate

# Rank within a group: the most used first, ties broken by the value's hash, so the
# values kept do not depend on the order rows arrived in.
_RANK = ["_group", "records", "_tie"]
_DESCENDING = [False, True, False]
_STRINGS = ("account_id", "value")
# Each merge appends its ranked groups as a chunk; operations over the state slow
# as chunks pile up, and rechunking a million rows at every tick costs ~20 ms.
_MAX_CHUNKS = 8


def empty_keys() -> pl.DataFrame:
    """The key-state rows with no rows. The hash columns of
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


def _empty_floors() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "_group": pl.UInt64(),
            "_acct": pl.UInt64(),
            "floor_records": pl.Int64(),
            "floor_tie": pl.UInt64(),
        }
    )


@dataclass(frozen=True, slots=True)
class KeyState:
    """The kept key rows (``empty_keys``' schema), and per (account, kind) holding
    ``top_k`` values, the floor a new value must rank above to enter.

    A floor is the ``top_k``-th row as it was when its group was last ranked. Counts
    only grow, so the group's ``top_k``-th row now ranks at or above it: a new value
    that does not beat the floor cannot enter, and one that does is ranked with the
    group in full, which sets the floor again. Floors hold for the ``top_k`` they were
    made with: merge a state with one ``top_k`` throughout (the engine takes it from
    its configuration, which is checkpointed with it).
    """

    rows: pl.DataFrame = field(default_factory=empty_keys)
    floors: pl.DataFrame = field(default_factory=_empty_floors)

    def keep_accounts(self, accounts: pl.DataFrame) -> KeyState:
        """Only the rows and floors of ``accounts`` (a frame of ``_acct`` hashes).

        The kept rows' strings are copied afresh (``_own_strings``): a join, like a
        filter, keeps the string buffers of the rows it drops, and the state would
        carry them from day to day.
        """
        rows = self.rows.join(accounts, on="_acct", how="semi")
        floors = self.floors.join(accounts, on="_acct", how="semi")
        return KeyState(_own_strings(rows), floors)


def _own_strings(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its string columns copied into buffers of their own.

    Polars strings are views into shared buffers: a row taken from a window's
    aggregate keeps that aggregate's whole buffer alive. The state keeps a few rows
    of every window for weeks, so without a copy it would keep every window's
    buffers (a replay of the full scenario passed 13 GB that way). Padding to width
    zero changes no value and writes new buffers; rechunking or gathering does not.
    """
    return frame.with_columns(pl.col(name).str.pad_end(0) for name in _STRINGS)


def merge_keys(state: KeyState, windows: list[WindowAggregate], *, top_k: int) -> KeyState:
    """``state`` with the windows' key counts added, keeping the ``top_k`` values per
    account and kind: the most used, ties broken by a hash of the value."""
    if not windows:
        return state
    # Rows are matched, grouped and ranked on 64-bit hashes of their string columns
    # rather than on the strings: two distinct keys share a hash once in ~10^13 ticks.
    fresh = pl.concat([w.keys.with_columns(pl.lit(w.start).alias("last_seen")) for w in windows])
    sums = fresh.group_by("_key").agg(
        pl.col("records").sum(),
        pl.col("last_seen").max(),
        pl.col("_group").first(),
        pl.col("_tie").first(),
    )
    rows = state.rows
    hit = rows["_key"].is_in(sums["_key"].implode())
    where = hit.arg_true()
    held_keys = rows["_key"].gather(where)
    if len(where):
        # Values the state holds: their counts rise in place, columns replaced
        # rather than rows moved, so neither the rows nor their strings are copied.
        added = (
            pl.DataFrame({"_key": held_keys})
            .join(
                sums.select("_key", "records", "last_seen"),
                on="_key",
                how="left",
                maintain_order="left",
            )
            .with_columns(
                (pl.col("records") + rows["records"].gather(where)).alias("records"),
                pl.max_horizontal("last_seen", rows["last_seen"].gather(where)).alias("last_seen"),
            )
        )
        rows = rows.with_columns(
            rows["records"].scatter(where, added["records"]),
            rows["last_seen"].scatter(where, added["last_seen"]),
        )
    new = sums.filter(~pl.col("_key").is_in(held_keys.implode()))
    entering = new.join(
        state.floors.select("_group", "floor_records", "floor_tie"), on="_group", how="left"
    ).filter(
        pl.col("floor_records").is_null()
        | (pl.col("records") > pl.col("floor_records"))
        | ((pl.col("records") == pl.col("floor_records")) & (pl.col("_tie") < pl.col("floor_tie")))
    )
    if entering.is_empty():
        return KeyState(rows, state.floors)
    groups = entering["_group"].unique().implode()
    ranked = rows["_group"].is_in(groups)
    incoming = fresh.filter(pl.col("_key").is_in(entering["_key"].implode()))
    merged = (
        pl.concat([rows.filter(ranked), incoming.select(rows.columns)])
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
        .sort(_RANK, descending=_DESCENDING)
    )
    # The rows kept of the groups ranked again get strings of their own, or they
    # would keep this tick's windows' buffers. The rows they replace are filtered
    # out of the state, and their strings' buffers stay as long as any row sharing
    # them does: under 1 MB a tick at day 28 of the full scenario, levelling off at a
    # few times the live strings in long synthetic runs, and copied afresh whenever
    # idle accounts leave (``KeyState.keep_accounts``).
    rank = _rank_in_group(merged)
    heads = _own_strings(merged.filter(rank < top_k)).select(rows.columns)
    kept = pl.concat([rows.filter(~ranked), heads])
    if kept.n_chunks() > _MAX_CHUNKS:
        kept = kept.rechunk()
    fresh_floors = _as_floors(merged.filter(rank == top_k - 1))
    floors = pl.concat([state.floors.filter(~pl.col("_group").is_in(groups)), fresh_floors])
    if floors.n_chunks() > _MAX_CHUNKS:
        floors = floors.rechunk()
    return KeyState(kept, floors)


def _rank_in_group(frame: pl.DataFrame) -> pl.Series:
    """Each row's rank within its group of ``frame`` (ranked, so sorted by
    ``_group``), from 0: a scan, where a window function would hash every row."""
    runs = frame["_group"]
    starts = (runs != runs.shift(1)).fill_null(value=True)
    position = pl.int_range(0, len(frame), eager=True)
    first = position.filter(starts).gather(starts.cast(pl.UInt32).cum_sum() - 1)
    return position - first


def _as_floors(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows``, each the ``top_k``-th of its group, as floors."""
    return rows.select(
        "_group",
        "_acct",
        pl.col("records").alias("floor_records"),
        pl.col("_tie").alias("floor_tie"),
    )
