"""The key state: per account and kind, the ``top_k`` most used values, merged tick
by tick without regrouping what cannot change."""

from __future__ import annotations

import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from detector.features.key_state import KeyState, empty_keys, merge_keys
from detector.features.windows import KIND, WindowAggregate, with_key_hashes

START = 1_767_225_600.0
RANK = ["_group", "records", "_tie"]


def window(start: float, counts: dict[tuple[str, str, str], int]) -> WindowAggregate:
    """A window whose key rows are ``counts``: (account, kind, value) → records."""
    keys = pl.DataFrame(
        {
            "account_id": [a for a, _, _ in counts],
            "kind": [k for _, k, _ in counts],
            "value": [v for _, _, v in counts],
            "records": list(counts.values()),
        },
        schema={"account_id": pl.String, "kind": KIND, "value": pl.String, "records": pl.Int64},
    )
    hashed = with_key_hashes(keys).select(
        "account_id", "kind", "value", "records", "_acct", "_tie", "_group", "_key"
    )
    empty = pl.DataFrame()
    return WindowAggregate(start=start, accounts=empty, keys=hashed, minutes=empty)


def regrouped(state: pl.DataFrame, windows: list[WindowAggregate], top_k: int) -> pl.DataFrame:
    """The merge by its definition: every held and new row summed per key, ranked
    within its account and kind, the first ``top_k`` kept."""
    fresh = [w.keys.with_columns(pl.lit(w.start).alias("last_seen")) for w in windows]
    merged = (
        pl.concat([state, *[f.select(state.columns) for f in fresh]])
        .group_by("_key")
        .agg(
            pl.col("account_id", "kind", "value").first(),
            pl.col("records").sum(),
            pl.col("last_seen").max(),
            pl.col("_acct", "_group", "_tie").first(),
        )
        .sort(RANK, descending=[False, True, False])
    )
    kept = merged.filter(pl.int_range(pl.len()).over("_group") < top_k)
    return kept.select(state.columns)


def random_windows(rng: random.Random, count: int) -> list[WindowAggregate]:
    """Windows where a few values repeat and most are used once, as templates are."""
    windows = []
    for i in range(count):
        counts: dict[tuple[str, str, str], int] = {}
        for account in ("a", "b", "c", "d"):
            for _ in range(rng.randint(0, 6)):
                kind = rng.choice(["tmpl", "ip", "sys"])
                value = f"v{rng.randint(0, 3)}" if rng.random() < 0.5 else f"u{rng.random()}"
                key = (account, kind, value)
                counts[key] = counts.get(key, 0) + rng.randint(1, 3)
        windows.append(window(START + 3600 * i, counts))
    return windows


@pytest.mark.parametrize("top_k", [1, 2, 4], ids=["top-1", "top-2", "top-4"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_merge_matches_regrouping_everything_at_every_tick(top_k: int, seed: int) -> None:
    rng = random.Random(seed)
    windows = random_windows(rng, 60)
    state, expected = KeyState(), empty_keys()
    for tick in range(0, len(windows), 3):
        batch = windows[tick : tick + 3]
        state = merge_keys(state, batch, top_k=top_k)
        expected = regrouped(expected, batch, top_k)
        assert_frame_equal(state.rows.sort("_key"), expected.sort("_key"))
    # Values were evicted along the way, or the test would not exercise the floors.
    assert state.floors.height > 0


def test_merge_leaves_the_state_it_was_given_as_it_was() -> None:
    # An earlier tick's frames are held for its cases' evidence while later ticks
    # merge: raising counts in place must not reach into them.
    windows = random_windows(random.Random(5), 12)
    state = merge_keys(KeyState(), windows[:6], top_k=2)
    # Copied out as Python values: a clone would share the buffers it checks.
    before = state.rows.rows(), state.floors.rows()
    merged = merge_keys(state, windows[6:], top_k=2)
    assert merged.rows.rows() != before[0]
    assert (state.rows.rows(), state.floors.rows()) == before


def test_a_new_value_enters_only_above_the_floor() -> None:
    first = window(START, {("a", "sys", "s1"): 5, ("a", "sys", "s2"): 4})
    state = merge_keys(KeyState(), [first], top_k=2)
    assert state.floors["floor_records"].to_list() == [4]
    # Three records of a new value: below the floor of four, left out.
    state = merge_keys(state, [window(START + 3600, {("a", "sys", "s3"): 3})], top_k=2)
    assert sorted(state.rows["value"]) == ["s1", "s2"]
    # Six: it enters, the weakest leaves, and the floor rises to five.
    state = merge_keys(state, [window(START + 7200, {("a", "sys", "s4"): 6})], top_k=2)
    assert sorted(state.rows.select("value", "records").rows()) == [("s1", 5), ("s4", 6)]
    assert state.floors["floor_records"].to_list() == [5]


def test_counts_of_held_values_rise_in_place() -> None:
    state = merge_keys(KeyState(), [window(START, {("a", "ip", "n1"): 2})], top_k=2)
    later = window(START + 3600, {("a", "ip", "n1"): 3})
    state = merge_keys(state, [later], top_k=2)
    assert state.rows.select("value", "records", "last_seen").rows() == [("n1", 5, START + 3600)]


def test_leaving_accounts_take_their_floors_with_them() -> None:
    counts = {(acct, "sys", f"s{i}"): 5 - i for acct in ("a", "b") for i in range(3)}
    state = merge_keys(KeyState(), [window(START, counts)], top_k=2)
    assert state.floors.height == 2
    kept = state.rows.filter(pl.col("account_id") == "b").select("_acct").unique()
    state = state.keep_accounts(kept)
    assert set(state.rows["account_id"]) == {"b"}
    assert state.floors.height == 1
    # "a" comes back with one record of a new value: with no floor left over from
    # before, it enters as it would for any new account.
    state = merge_keys(state, [window(START + 3600, {("a", "sys", "s9"): 1})], top_k=2)
    assert ("a", "s9") in state.rows.select("account_id", "value").rows()


def buffer_bytes(column: pl.Series) -> int:
    """Bytes of the buffers a string column's views point into."""
    array = column.to_arrow(compat_level=pl.CompatLevel.newest())
    chunks = array.chunks if hasattr(array, "chunks") else [array]
    return sum(b.size for c in chunks for b in c.buffers()[2:] if b is not None)


def test_the_state_does_not_keep_the_strings_of_values_it_left_out() -> None:
    # One window of 20,000 long template values, of which two are kept: the state's
    # strings must not hold the window's buffers, or weeks of windows would pile up.
    counts = {("a", "tmpl", f"template-{i:040d}"): 1 + (i == 7) for i in range(20_000)}
    state = merge_keys(KeyState(), [window(START, {("a", "tmpl", "t0"): 1})], top_k=2)
    state = merge_keys(state, [window(START + 3600, counts)], top_k=2)
    assert state.rows.height == 2
    assert buffer_bytes(state.rows["value"]) < 1_000
