"""Stage 1's pure pieces against the engine's: window aggregates made per bucket of
accounts and joined again, and the windower's late records."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from detector.features.frames import RECORD_SCHEMA, narrow
from detector.features.windows import aggregate_window
from detector.pipeline.engine import Engine, EngineConfig
from detector.scaleout.frames import (
    PARTS,
    firsts,
    from_ipc,
    to_ipc,
    window_aggregate,
    window_parts,
)
from detector.scaleout.windower import Clock
from tests.pipeline.traffic import HOUR, START, make_traffic


@pytest.fixture(scope="module")
def records() -> pl.DataFrame:
    data = make_traffic(seed=4, hours=6, honest=8, campaign=4)
    frame = narrow(pl.from_dicts(data.records, schema=RECORD_SCHEMA))
    # Two models, one of them counted new, so that new_model_records is exercised.
    return frame.with_columns(
        pl.when(pl.col("prompt_fp").hash() % 3 == 0)
        .then(pl.lit("model-b"))
        .otherwise(pl.col("model"))
        .alias("model")
    )


@pytest.mark.parametrize("buckets", [1, 3], ids=["one-bucket", "three-buckets"])
def test_parts_of_buckets_joined_are_the_engines_aggregate(
    records: pl.DataFrame, buckets: int
) -> None:
    start = START + 2 * HOUR
    window = records.filter((pl.col("ts") >= start) & (pl.col("ts") < start + HOUR))
    expected = aggregate_window(window, start=start, new_models=frozenset({"model-b"}))

    accounts = sorted(set(window["account_id"]))
    made: dict[str, list[pl.DataFrame]] = {name: [] for name in PARTS}
    for bucket in range(buckets):
        mine = accounts[bucket::buckets]
        parts = window_parts(window.filter(pl.col("account_id").is_in(mine)), start=start)
        for name, frame in parts.items():
            # As the store keeps them.
            made[name].append(from_ipc(to_ipc(frame)))
    joined = {name: pl.concat(frames) for name, frames in made.items()}
    got = window_aggregate(start, joined, frozenset({"model-b"}))

    assert got.accounts["new_model_records"].sum() > 0
    assert_frame_equal(got.accounts, expected.accounts)
    assert_frame_equal(
        got.keys.sort("account_id", "kind", "value"),
        expected.keys.sort("account_id", "kind", "value"),
    )
    assert_frame_equal(got.minutes, expected.minutes)
    assert dict(firsts(joined["models"])) == dict(
        window.group_by("model").agg(pl.col("ts").min()).iter_rows()
    )


def test_windower_hands_out_what_the_engine_finds_late(records: pl.DataFrame) -> None:
    """Where every window held records, the records behind the watermark are the
    engine's late ones (elsewhere stage 2's engine sorts them out, ``Feeder``)."""
    config = EngineConfig()
    clock = Clock.of(config)
    engine = Engine(config=config)
    engine.add(records.filter(pl.col("ts") < START + 5 * HOUR))
    engine.advance()
    assert engine.closed_until == clock.passed(engine.watermark)

    again = records.filter(pl.col("ts") < START + 4 * HOUR)
    windows, behind = clock.split(again, engine.watermark)
    assert behind.height == engine.add(again) > 0
    assert behind.height + sum(f.height for f in windows.values()) == again.height
    assert all((w + 1) * config.window_seconds > engine.closed_until for w in windows)
